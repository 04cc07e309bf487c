import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ValueError } from '@gradkit/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { type CsvOptions, parseCsv } from './csv.js';
import { readCsv } from './csv-file.js';
import { Dataset } from './dataset.js';
import { DataError } from './errors.js';

const dir = mkdtempSync(join(tmpdir(), 'gradkit-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const IRIS = `sepal_length,sepal_width,petal_length,petal_width,species
5.1,3.5,1.4,0.2,setosa
7.0,3.2,4.7,1.4,versicolor
6.3,3.3,6.0,2.5,virginica
4.9,3.0,1.4,0.2,setosa
`;

/** The DataError that `fn` throws (fails when it throws something else or nothing). */
function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}

describe('parseCsv', () => {
  it('reads a table with a header, a label by name and categorical labels', () => {
    const t = parseCsv(IRIS, { label: 'species' });
    expect(t.length).toBe(4);
    expect(t.numFeatures).toBe(4);
    expect(t.featureNames).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    expect(t.labelName).toBe('species');
    expect(t.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(t.numClasses).toBe(3);
    expect(Array.from(t.labels)).toEqual([0, 1, 2, 0]);
    expect(Array.from(t.features)).toEqual(
      [5.1, 3.5, 1.4, 0.2, 7.0, 3.2, 4.7, 1.4, 6.3, 3.3, 6.0, 2.5, 4.9, 3.0, 1.4, 0.2].map(Math.fround),
    );
    expect(t.name).toBe('<csv text>');
  });

  it('auto-detects no header, takes the label by index (negative from the end)', () => {
    const text = '0,1.5,2\n1,2.5,3\n1,-1e-3,4\n';
    const first = parseCsv(text, { label: 0 });
    expect(first.length).toBe(3);
    expect(Array.from(first.labels)).toEqual([0, 1, 1]);
    expect(Array.from(first.features)).toEqual([1.5, 2, 2.5, 3, -1e-3, 4].map(Math.fround));
    expect(first.featureNames).toEqual(['column 2', 'column 3']);
    expect(first.labelName).toBe('column 1');
    expect(first.classNames).toBeNull();
    expect(first.numClasses).toBe(2);
    const last = parseCsv(text, { label: -1 });
    expect(Array.from(last.labels)).toEqual([2, 3, 4]);
    expect(last.numClasses).toBe(5);
    expect(Array.from(last.features)).toEqual([0, 1.5, 1, 2.5, 1, -1e-3].map(Math.fround));
  });

  it('auto-detects a header by a non-numeric feature cell, also with a label index', () => {
    const t = parseCsv('a,b,y\n1,2,0\n3,4,1\n', { label: 2 });
    expect(t.length).toBe(2);
    expect(t.featureNames).toEqual(['a', 'b']);
    // numeric header names need header: true
    const numeric = parseCsv('1,2,3\n4,5,0\n', { label: -1, header: true });
    expect(numeric.length).toBe(1);
    expect(numeric.featureNames).toEqual(['1', '2']);
    expect(parseCsv('1,2,3\n4,5,0\n', { label: -1 }).length).toBe(2);
  });

  it('handles delimiters, CRLF, blank lines, a BOM, spaces and quoted fields', () => {
    const tsv = parseCsv('\uFEFFx\ty\tlabel\r\n\r\n 1 \t2\t1\r\n3\t 4.5e1 \t0\r\n\r\n', {
      label: 'label',
      delimiter: '\t',
    });
    expect(tsv.length).toBe(2);
    expect(tsv.featureNames).toEqual(['x', 'y']);
    expect(Array.from(tsv.features)).toEqual([1, 2, 3, 45]);
    expect(Array.from(tsv.labels)).toEqual([1, 0]);
    const semi = parseCsv('1;2;a\n3;4;b\n', { label: 2, delimiter: ';' });
    expect(Array.from(semi.features)).toEqual([1, 2, 3, 4]);
    const quoted = parseCsv('"f, one","f ""two""",class\n"1",2,"Iris, setosa"\n3,"4",plain\n', {
      label: 'class',
    });
    expect(quoted.featureNames).toEqual(['f, one', 'f "two"']);
    expect(quoted.classNames).toEqual(['Iris, setosa', 'plain']);
    expect(Array.from(quoted.features)).toEqual([1, 2, 3, 4]);
  });

  it('label types: auto, integer, categorical (sorted numerically or by code unit), classNames', () => {
    const text = 'x,y\n1,10\n2,2\n3,-1\n4,2\n';
    // -1 is not a class index, so 'auto' reads the labels as categories, sorted numerically
    const auto = parseCsv(text, { label: 'y' });
    expect(auto.classNames).toEqual(['-1', '2', '10']);
    expect(Array.from(auto.labels)).toEqual([2, 1, 0, 1]);
    const ints = parseCsv('x,y\n1,10\n2,2\n', { label: 'y' });
    expect(ints.classNames).toBeNull();
    expect(Array.from(ints.labels)).toEqual([10, 2]);
    expect(ints.numClasses).toBe(11);
    const cat = parseCsv('x,y\n1,10\n2,2\n', { label: 'y', labelType: 'categorical' });
    expect(cat.classNames).toEqual(['2', '10']);
    expect(Array.from(cat.labels)).toEqual([1, 0]);
    const words = parseCsv('x,y\n1,b\n2,B\n3,a\n', { label: 'y' });
    expect(words.classNames).toEqual(['B', 'a', 'b']);
    const named = parseCsv(IRIS, {
      label: 'species',
      classNames: ['virginica', 'versicolor', 'setosa', 'other'],
    });
    expect(Array.from(named.labels)).toEqual([2, 1, 0, 2]);
    expect(named.numClasses).toBe(4);
  });

  it('an empty table with only a header has no rows', () => {
    const t = parseCsv('a,b,y\n', { label: 'y' });
    expect(t.length).toBe(0);
    expect(t.features.length).toBe(0);
    expect(t.numClasses).toBe(0);
  });

  it('makes a Dataset', () => {
    const ds = new Dataset(parseCsv(IRIS, { label: 'species', name: 'iris' }));
    expect(ds.length).toBe(4);
    expect(ds.numFeatures).toBe(4);
    expect(ds.numClasses).toBe(3);
    expect(ds.name).toBe('iris');
  });
});

describe('parseCsv errors name the file, line and column', () => {
  const opts: CsvOptions = { label: 'y', name: 'data.csv' };

  it('a non-numeric cell', () => {
    const e = dataError(() => parseCsv('a,b,y\n1,2,0\n\n3,abc,1\n', opts));
    expect(e.message).toBe('data.csv: line 4, column 2 (b): "abc" is not a number');
    expect([e.line, e.column, e.source]).toEqual([4, 2, 'data.csv']);
  });

  it('an empty cell, a non-finite number, an empty label', () => {
    expect(dataError(() => parseCsv('a,b,y\n1,,0\n', opts)).message).toBe(
      'data.csv: line 2, column 2 (b): "" is not a number',
    );
    expect(dataError(() => parseCsv('a,b,y\n1,Infinity,0\n', opts)).message).toBe(
      'data.csv: line 2, column 2 (b): "Infinity" is not a finite number',
    );
    expect(dataError(() => parseCsv('a,b,y\n1,2, \n', opts)).message).toBe(
      'data.csv: line 2, column 3 (y): empty label',
    );
  });

  it('a ragged row', () => {
    const e = dataError(() => parseCsv('a,b,y\n1,2,0\n1,2\n', opts));
    expect(e.message).toBe('data.csv: ragged row: line 3 has 2 columns, expected 3 (as on line 1)');
    expect(e.line).toBe(3);
    expect(dataError(() => parseCsv('\n1,2,0\n1,2,0,4\n', { label: 0 })).message).toBe(
      '<csv text>: ragged row: line 3 has 4 columns, expected 3 (as on line 2)',
    );
  });

  it('labels that are not integers, or not in classNames', () => {
    expect(dataError(() => parseCsv('a,y\n1,0\n2,cat\n', { ...opts, labelType: 'integer' })).message).toBe(
      'data.csv: line 3, column 2 (y): label "cat" is not a non-negative integer (below 2^31 - 1)',
    );
    expect(dataError(() => parseCsv('a,y\n1,1.5\n', { ...opts, labelType: 'integer' })).message).toBe(
      'data.csv: line 2, column 2 (y): label "1.5" is not a non-negative integer (below 2^31 - 1)',
    );
    const e = dataError(() => parseCsv('a,y\n1,cat\n2,dog\n', { ...opts, classNames: ['cat'] }));
    expect(e.message).toBe('data.csv: line 3, column 2 (y): label "dog" is not one of the classNames (cat)');
    expect([e.line, e.column]).toEqual([3, 2]);
  });

  it('a label column missing from the header, too few columns, an unterminated quote, no rows', () => {
    expect(dataError(() => parseCsv('a,b,c\n1,2,3\n', opts)).message).toBe(
      "data.csv: label column 'y' not found in the header (line 1): a, b, c",
    );
    // a wrong delimiter shows up as a single column, before the header is searched
    expect(dataError(() => parseCsv('a;b;y\n1;2;3\n', opts)).message).toBe(
      'data.csv: line 1 has 1 column, a table needs at least 2 (a label and a feature); is the delimiter "," right?',
    );
    expect(dataError(() => parseCsv('1;2;3\n', { label: 0, name: 'x.csv' })).message).toBe(
      'x.csv: line 1 has 1 column, a table needs at least 2 (a label and a feature); is the delimiter "," right?',
    );
    expect(dataError(() => parseCsv('a,y\n"1,0\n', opts)).message).toBe(
      'data.csv: line 2, column 1: unterminated quoted field (quoted fields cannot span lines)',
    );
    expect(dataError(() => parseCsv(' \n\n', opts)).message).toBe('data.csv: no rows: the CSV text is empty');
  });

  it('bad options are ValueErrors', () => {
    expect(() => parseCsv(IRIS, { label: 'species', header: false })).toThrow(ValueError);
    expect(() => parseCsv(IRIS, { label: 'species', header: false })).toThrow(
      "readCsv: label is a column name ('species') but header is false: pass the column index",
    );
    expect(() => parseCsv(IRIS, { label: 5 })).toThrow(
      'readCsv: label column index 5 is outside the 5 columns of <csv text>',
    );
    expect(() => parseCsv(IRIS, { label: -6 })).toThrow(ValueError);
    expect(() => parseCsv(IRIS, { label: 1.5 })).toThrow(ValueError);
    expect(() => parseCsv(IRIS, { label: 0, delimiter: ',,' })).toThrow(ValueError);
    expect(() => parseCsv(IRIS, { label: 0, delimiter: '"' })).toThrow(ValueError);
  });
});

describe('readCsv', () => {
  it('reads a file, raw or gzipped, and names it in errors', () => {
    const path = join(dir, 'iris.csv');
    writeFileSync(path, IRIS);
    const t = readCsv(path, { label: 'species' });
    expect(t.length).toBe(4);
    expect(t.name).toBe(path);
    const gz = join(dir, 'iris.csv.gz');
    writeFileSync(gz, gzipSync(IRIS));
    expect(Array.from(readCsv(gz, { label: 'species' }).features)).toEqual(Array.from(t.features));
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'a,b,y\n1,2,0\n1,x,0\n');
    const e = dataError(() => readCsv(bad, { label: -1 }));
    expect(e.message).toBe(`${bad}: line 3, column 2 (b): "x" is not a number`);
  });

  it('a missing file', () => {
    const path = join(dir, 'missing.csv');
    expect(dataError(() => readCsv(path, { label: 0 })).message).toBe(`${path}: file not found`);
  });
});

describe('reading files for a trained model (featureNames, classNames, numClasses, no label)', () => {
  const TRAIN = 'x1,x2,y\n1,2,cat\n3,4,dog\n';

  it('label: null reads every column as a feature, unlabeled', () => {
    const t = parseCsv('x1,x2\n1,2\n3,4\n', { label: null });
    expect(t.labeled).toBe(false);
    expect(t.hasHeader).toBe(true);
    expect(t.featureNames).toEqual(['x1', 'x2']);
    expect(Array.from(t.features)).toEqual([1, 2, 3, 4]);
    expect(Array.from(t.labels)).toEqual([0, 0]);
    expect(t.numClasses).toBe(0);
    expect(t.labelName).toBe('');
    const one = parseCsv('5\n6\n', { label: null });
    expect(one.numFeatures).toBe(1);
    expect(one.hasHeader).toBe(false);
  });

  it('featureNames picks the training columns by name, whatever their order', () => {
    const t = parseCsv('y,x2,x1\ndog,4,3\ncat,2,1\n', {
      label: 'y',
      featureNames: ['x1', 'x2'],
      classNames: ['cat', 'dog'],
    });
    expect(Array.from(t.features)).toEqual([3, 4, 1, 2]);
    expect(Array.from(t.labels)).toEqual([1, 0]);
    expect(t.featureNames).toEqual(['x1', 'x2']);
  });

  it('featureNames: a missing, repeated or extra column is an error naming it', () => {
    const opts: CsvOptions = { label: 'y', featureNames: ['x1', 'x2'] };
    expect(dataError(() => parseCsv('x1,x3,y\n1,2,a\n', opts)).message).toBe(
      "<csv text>: feature column 'x2' not found in the header (line 1): expected the columns x1, x2",
    );
    expect(dataError(() => parseCsv('x1,x2,x2,y\n1,2,2,a\n', opts)).message).toMatch(
      /feature column 'x2' appears twice/,
    );
    expect(dataError(() => parseCsv('x1,x2,z,y\n1,2,3,a\n', opts)).message).toBe(
      "<csv text>: column 3 ('z') is not one of the 2 feature columns and the label (x1, x2)",
    );
    // without a header the count must match
    expect(dataError(() => parseCsv('1,2,3,0\n', { label: -1, featureNames: ['a', 'b'] })).message).toBe(
      '<csv text>: line 1 has 4 columns, expected 2 feature columns and the label (3 columns)',
    );
  });

  it('optionalLabel reads a file without the label column (by name, or by count without a header)', () => {
    const named = parseCsv('x2,x1\n4,3\n', { label: 'y', featureNames: ['x1', 'x2'], optionalLabel: true });
    expect(named.labeled).toBe(false);
    expect(Array.from(named.features)).toEqual([3, 4]);
    const counted = parseCsv('3,4\n', { label: -1, featureNames: ['x1', 'x2'], optionalLabel: true });
    expect(counted.labeled).toBe(false);
    expect(Array.from(counted.features)).toEqual([3, 4]);
    const withLabel = parseCsv('3,4,1\n', {
      label: -1,
      featureNames: ['x1', 'x2'],
      optionalLabel: true,
      labelType: 'integer',
    });
    expect(withLabel.labeled).toBe(true);
    expect(Array.from(withLabel.labels)).toEqual([1]);
    // numeric header names are recognized as a header when they are the feature names
    const numericHeader = parseCsv('0,1\n5,6\n', { label: null, featureNames: ['0', '1'] });
    expect(numericHeader.hasHeader).toBe(true);
    expect(numericHeader.length).toBe(1);
  });

  it('classNames keeps the training order for a file with one class only (not renumbered per file)', () => {
    const train = parseCsv(TRAIN, { label: 'y' });
    expect(train.classNames).toEqual(['cat', 'dog']);
    const dogs = parseCsv('x1,x2,y\n5,6,dog\n7,8,dog\n', { label: 'y', classNames: train.classNames! });
    expect(Array.from(dogs.labels)).toEqual([1, 1]);
    // without classNames a dog-only file makes 'dog' class 0: the silent wrong answer of issue 10
    expect(Array.from(parseCsv('x1,x2,y\n5,6,dog\n', { label: 'y' }).labels)).toEqual([0]);
    const e = dataError(() =>
      parseCsv('x1,x2,y\n5,6,dog\n7,8,bird\n', { label: 'y', classNames: ['cat', 'dog'] }),
    );
    expect(e.message).toBe(
      '<csv text>: line 3, column 3 (y): label "bird" is not one of the classNames (cat, dog)',
    );
    expect(e.line).toBe(3);
  });

  it('numClasses bounds integer labels, naming the line of an unseen class', () => {
    const e = dataError(() =>
      parseCsv('a,y\n1,0\n2,3\n', { label: 'y', labelType: 'integer', numClasses: 3 }),
    );
    expect(e.message).toBe(
      '<csv text>: line 3, column 2 (y): label "3" is outside the 3 classes [0, 3) (an unseen class)',
    );
    expect(() => parseCsv('a,y\n1,0\n', { label: 'y', numClasses: 3 })).toThrow(ValueError);
    expect(() => parseCsv('a,y\n1,0\n', { label: 'y', labelType: 'integer', numClasses: 0 })).toThrow(
      ValueError,
    );
  });

  it('a feature cell that overflows float32 is an error with its position', () => {
    const e = dataError(() => parseCsv('a,y\n1,0\n1e39,1\n', { label: 'y' }));
    expect(e.message).toBe(
      '<csv text>: line 3, column 1 (a): "1e39" is not finite in float32 (magnitude above 3.4e38)',
    );
    expect(e.column).toBe(1);
    expect(parseCsv('a,y\n3e38,1\n', { label: 'y' }).features[0]).toBe(Math.fround(3e38));
  });
});
