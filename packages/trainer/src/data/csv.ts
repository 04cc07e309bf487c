import { ValueError } from '@gradkit/tensor';
import { DataError } from './errors.js';

/**
 * How the label column is read:
 * - `'integer'`: class indices `0, 1, 2, ...` as written;
 * - `'categorical'`: any text; the distinct values, sorted (numerically when they all are numbers,
 *   else by code unit), become classes `0, 1, 2, ...` (see `CsvTable.classNames`);
 * - `'auto'`: `'integer'` when every label is a non-negative integer, else `'categorical'`.
 *
 * @example
 * ```ts
 * const type: CsvLabelType = 'categorical'; // 'setosa' | 'versicolor' | 'virginica' -> 0 | 1 | 2
 * ```
 */
export type CsvLabelType = 'auto' | 'integer' | 'categorical';

/**
 * Options of {@link parseCsv} (and of `readCsv` of `@gradkit/trainer/node`).
 *
 * @example
 * ```ts
 * const options: CsvOptions = { label: -1, header: false, delimiter: '\t' };
 * ```
 */
export interface CsvOptions {
  /**
   * The label column: its header name, or its 0-based index (negative counts from the end, `-1`
   * is the last column). Required. Every other column is a feature (see `featureNames`). `null`
   * reads a table without labels: every column is a feature, `labeled` is false, `labels` are
   * all 0 and `numClasses` is 0 (for prediction; such a table cannot train a model).
   */
  readonly label: string | number | null;
  /**
   * Whether the first non-blank line is a header row (default `'auto'`: it is when one of its
   * feature cells is not a number; a label given by name implies a header). Set `true` for a
   * header of numeric names.
   */
  readonly header?: boolean | 'auto';
  /** The field separator, one character (default `','`; e.g. `'\t'`, `';'`). */
  readonly delimiter?: string;
  /** How to read the label column (default `'auto'`). */
  readonly labelType?: CsvLabelType;
  /**
   * The classes in order, for categorical labels (`classNames[k]` becomes class `k`); a label
   * not in the list is an error. Use it to get the same class indices for every file of a dataset.
   */
  readonly classNames?: readonly string[];
  /**
   * For integer labels (`labelType: 'integer'` only): the number of classes a model has; a label
   * `>= numClasses` is an error naming its line. Use it to read evaluation files for a model
   * trained on integer labels.
   */
  readonly numClasses?: number;
  /**
   * The feature columns a model was trained on, in its order (e.g. a training table's
   * `featureNames`). With a header, the features are taken by these names in this order, whatever
   * the file's column order; a missing name, a name twice in the header, or any other column
   * besides the label is an error. Without a header, the file must have exactly this many feature
   * columns, read in file order. With `header: 'auto'`, a first line that holds every one of
   * these names is a header even when all of them are numbers.
   */
  readonly featureNames?: readonly string[];
  /**
   * Accept a file without the label column (default false): when the label is given by name and
   * the header lacks it, or (with `featureNames`) the file has exactly `featureNames.length`
   * columns, the table is read without labels as with `label: null` (`labeled` false).
   */
  readonly optionalLabel?: boolean;
  /** The name used in error messages when parsing text (default `'<csv text>'`). */
  readonly name?: string;
}

/**
 * A numeric table read from CSV: features `[length, numFeatures]` and labels `[length]`, in file
 * order. It has the fields of a `DatasetInit`, so `new Dataset(table)` makes a dataset of it.
 *
 * @example
 * ```ts
 * const table = readCsv('iris.csv', { label: 'species' });
 * table.featureNames; // ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']
 * table.classNames; // ['setosa', 'versicolor', 'virginica']
 * ```
 */
export interface CsvTable {
  /** `[length, numFeatures]` row-major. */
  readonly features: Float32Array;
  /** `[length]` class indices (all 0 when the table has no label column). */
  readonly labels: Int32Array;
  /** Data rows (N). */
  readonly length: number;
  /** Feature columns (D). */
  readonly numFeatures: number;
  /**
   * `classNames.length` for categorical labels, else the largest label + 1 (0 without rows or
   * without a label column).
   */
  readonly numClasses: number;
  /**
   * The feature columns' header names, or `'column <k>'` (1-based) without a header (the
   * `featureNames` option's names when it was given).
   */
  readonly featureNames: string[];
  /** The label column's header name, or `'column <k>'`; `''` without a label column. */
  readonly labelName: string;
  /** Whether the table has a label column (false for `label: null`, see `optionalLabel`). */
  readonly labeled: boolean;
  /** Whether the first non-blank line was read as a header row. */
  readonly hasHeader: boolean;
  /** The class names for categorical labels (class `k` is `classNames[k]`), else null. */
  readonly classNames: string[] | null;
  /** The file path (or the `name` option). */
  readonly name: string;
}

/**
 * Parses CSV text of numbers with one label column.
 *
 * Rules: lines end with `\n` or `\r\n`; blank lines are skipped; a leading byte-order mark is
 * ignored; fields may be double-quoted (`"a,b"`, `""` for a quote) but may not span lines;
 * feature cells must be finite numbers (as JavaScript's `Number()` reads them, surrounding
 * spaces allowed, empty cells not) that are finite in float32 too (magnitude at most about
 * 3.4e38); every row must have as many fields as the first one. Line and column numbers in
 * errors are 1-based and count every line of the text.
 *
 * @throws {DataError} (with `line` and `column`) for a row with a different number of fields
 * ("ragged row"), a feature cell that is not a finite number or overflows float32, an empty
 * label, a label that is not a non-negative integer with `labelType: 'integer'` (or not below
 * `numClasses`), a label missing from `classNames`, an unterminated quote, a label name missing
 * from the header, columns that do not match `featureNames`, or fewer than 2 columns (1 without
 * a label).
 * @throws {ValueError} for a bad delimiter, a label index outside the columns, a label name
 * with `header: false`, or `numClasses` without `labelType: 'integer'`.
 * @see https://www.rfc-editor.org/rfc/rfc4180 (CSV)
 * @example
 * ```ts
 * const t = parseCsv('x1,x2,y\n0.5,1,0\n1.5,2,1\n', { label: 'y' });
 * t.features; // Float32Array [0.5, 1, 1.5, 2]
 * t.labels; // Int32Array [0, 1]
 * ```
 */
export function parseCsv(text: string, options: CsvOptions): CsvTable {
  return parseCsvText(text, options, options.name ?? '<csv text>');
}

/** @internal {@link parseCsv} with the source named in errors (a file path for `readCsv`). */
export function parseCsvText(text: string, options: CsvOptions, source: string): CsvTable {
  const op = 'readCsv';
  const {
    label,
    header = 'auto',
    delimiter = ',',
    labelType = 'auto',
    classNames,
    numClasses: maxClasses,
    featureNames: wanted,
    optionalLabel = false,
  } = options;
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || '"\r\n'.includes(delimiter)) {
    throw new ValueError(
      op,
      `delimiter must be one character other than a quote or a newline, got ${JSON.stringify(delimiter)}`,
    );
  }
  if (label !== null && typeof label !== 'string' && !Number.isInteger(label)) {
    throw new ValueError(op, `label must be a column name, an integer index or null, got ${String(label)}`);
  }
  if (header !== true && header !== false && header !== 'auto') {
    throw new ValueError(op, `header must be true, false or 'auto', got ${String(header)}`);
  }
  if (labelType !== 'auto' && labelType !== 'integer' && labelType !== 'categorical') {
    throw new ValueError(
      op,
      `labelType must be 'auto', 'integer' or 'categorical', got ${String(labelType)}`,
    );
  }
  if (classNames !== undefined && labelType === 'integer') {
    throw new ValueError(op, "classNames is for categorical labels, not labelType: 'integer'");
  }
  if (
    maxClasses !== undefined &&
    (labelType !== 'integer' || !Number.isInteger(maxClasses) || maxClasses < 1)
  ) {
    throw new ValueError(
      op,
      `numClasses must be a positive integer and needs labelType: 'integer', got ${String(maxClasses)} with labelType '${labelType}'`,
    );
  }
  if (wanted !== undefined && (!Array.isArray(wanted) || wanted.length === 0)) {
    throw new ValueError(op, 'featureNames must be a non-empty array of column names');
  }

  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
  const split = (i: number): string[] => {
    let line = lines[i];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    return line.includes('"') ? splitQuoted(line, delimiter, source, i + 1) : line.split(delimiter);
  };
  const isBlank = (i: number): boolean => lines[i].trim() === '';

  let first = 0;
  while (first < lines.length && isBlank(first)) first++;
  if (first === lines.length) throw new DataError(source, 'no rows: the CSV text is empty');
  const firstCells = split(first);
  const ncol = firstCells.length;
  if (ncol < 2 && label !== null) {
    throw new DataError(
      source,
      `line ${first + 1} has 1 column, a table needs at least 2 (a label and a feature); is the delimiter ${JSON.stringify(delimiter)} right?`,
      { line: first + 1 },
    );
  }
  const firstNames = firstCells.map((c) => c.trim());

  let hasHeader: boolean;
  let labelCol = -1; // -1: no label column
  if (typeof label === 'string') {
    if (header === false) {
      throw new ValueError(
        op,
        `label is a column name ('${label}') but header is false: pass the column index`,
      );
    }
    hasHeader = true;
    labelCol = firstNames.indexOf(label);
    if (labelCol < 0 && !optionalLabel) {
      throw new DataError(
        source,
        `label column '${label}' not found in the header (line ${first + 1}): ${firstNames.join(', ')}`,
        { line: first + 1 },
      );
    }
  } else {
    if (label !== null && !(optionalLabel && wanted !== undefined && ncol === wanted.length)) {
      labelCol = label < 0 ? ncol + label : label;
      if (labelCol < 0 || labelCol >= ncol) {
        throw new ValueError(op, `label column index ${label} is outside the ${ncol} columns of ${source}`);
      }
    }
    hasHeader =
      header === 'auto'
        ? firstCells.some((c, j) => j !== labelCol && !Number.isFinite(parseNumber(c))) ||
          wanted?.every((w) => firstNames.includes(w)) === true
        : header;
  }

  const columnName = (j: number): string =>
    hasHeader && firstNames[j] !== '' ? firstNames[j] : `column ${j + 1}`;
  const featureCols: number[] = [];
  for (let j = 0; j < ncol; j++) if (j !== labelCol) featureCols.push(j);
  let names = featureCols.map(columnName);
  if (wanted !== undefined) {
    const expected = `${wanted.length} feature column${wanted.length === 1 ? '' : 's'}${labelCol >= 0 ? ' and the label' : ''}`;
    if (hasHeader) {
      const picked: number[] = [];
      for (const w of wanted) {
        const at = featureCols.filter((j) => firstNames[j] === w);
        if (at.length !== 1) {
          throw new DataError(
            source,
            `feature column '${w}' ${at.length ? 'appears twice' : 'not found'} in the header (line ${first + 1}): expected the columns ${wanted.join(', ')}`,
            { line: first + 1 },
          );
        }
        picked.push(at[0]);
      }
      const extra = featureCols.find((j) => !picked.includes(j));
      if (extra !== undefined) {
        throw new DataError(
          source,
          `column ${extra + 1} ('${firstNames[extra]}') is not one of the ${expected} (${wanted.join(', ')})${typeof label === 'string' && labelCol < 0 ? ` (the label column '${label}' is not in this file)` : ''}`,
          { line: first + 1, column: extra + 1 },
        );
      }
      featureCols.splice(0, featureCols.length, ...picked);
    } else if (featureCols.length !== wanted.length) {
      throw new DataError(
        source,
        `line ${first + 1} has ${ncol} columns, expected ${expected} (${wanted.length + (labelCol >= 0 ? 1 : 0)} columns)`,
        { line: first + 1 },
      );
    }
    names = [...wanted];
  }
  const d = featureCols.length;
  if (d === 0) throw new DataError(source, `line ${first + 1}: no feature columns`, { line: first + 1 });

  const dataStart = hasHeader ? first + 1 : first;
  let n = 0;
  for (let i = dataStart; i < lines.length; i++) if (!isBlank(i)) n++;
  const features = new Float32Array(n * d);
  const labelCells: string[] = new Array(n);
  const rowLine = new Int32Array(n);

  let r = 0;
  for (let i = dataStart; i < lines.length; i++) {
    if (isBlank(i)) continue;
    const cells = i === first ? firstCells : split(i);
    if (cells.length !== ncol) {
      throw new DataError(
        source,
        `ragged row: line ${i + 1} has ${cells.length} column${cells.length === 1 ? '' : 's'}, expected ${ncol} (as on line ${first + 1})`,
        { line: i + 1 },
      );
    }
    const base = r * d;
    for (let k = 0; k < d; k++) {
      const j = featureCols[k];
      const v = parseNumber(cells[j]);
      if (!Number.isFinite(v) || !Number.isFinite(Math.fround(v))) {
        throw new DataError(
          source,
          `line ${i + 1}, column ${j + 1} (${columnName(j)}): ${JSON.stringify(cells[j])} is not ${Number.isNaN(v) ? 'a number' : Number.isFinite(v) ? 'finite in float32 (magnitude above 3.4e38)' : 'a finite number'}`,
          { line: i + 1, column: j + 1 },
        );
      }
      features[base + k] = v;
    }
    rowLine[r] = i + 1;
    if (labelCol < 0) {
      r++;
      continue;
    }
    const lab = cells[labelCol].trim();
    if (lab === '') {
      throw new DataError(
        source,
        `line ${i + 1}, column ${labelCol + 1} (${columnName(labelCol)}): empty label`,
        {
          line: i + 1,
          column: labelCol + 1,
        },
      );
    }
    labelCells[r] = lab;
    r++;
  }

  const labelError = (row: number, what: string): DataError =>
    new DataError(
      source,
      `line ${rowLine[row]}, column ${labelCol + 1} (${columnName(labelCol)}): label ${JSON.stringify(labelCells[row])} ${what}`,
      { line: rowLine[row], column: labelCol + 1 },
    );

  const labels = new Int32Array(n);
  if (labelCol < 0) {
    return {
      features,
      labels,
      length: n,
      numFeatures: d,
      numClasses: 0,
      featureNames: names,
      labelName: '',
      classNames: null,
      labeled: false,
      hasHeader,
      name: source,
    };
  }
  let classes: string[] | null = null;
  const asInteger = (s: string): number => {
    const v = parseNumber(s);
    return Number.isInteger(v) && v >= 0 && v < 2 ** 31 - 1 ? v : -1;
  };
  const categorical =
    classNames !== undefined ||
    labelType === 'categorical' ||
    (labelType === 'auto' && labelCells.some((s) => asInteger(s) < 0));
  if (!categorical) {
    for (let k = 0; k < n; k++) {
      const v = asInteger(labelCells[k]);
      if (v < 0) throw labelError(k, 'is not a non-negative integer (below 2^31 - 1)');
      if (maxClasses !== undefined && v >= maxClasses) {
        throw labelError(k, `is outside the ${maxClasses} classes [0, ${maxClasses}) (an unseen class)`);
      }
      labels[k] = v;
    }
  } else {
    classes = classNames !== undefined ? classNames.map((c) => String(c).trim()) : sortedClasses(labelCells);
    const list = classes;
    const index = new Map<string, number>();
    list.forEach((c, k) => {
      if (!index.has(c)) index.set(c, k);
    });
    for (let k = 0; k < n; k++) {
      const c = index.get(labelCells[k]);
      if (c === undefined) throw labelError(k, `is not one of the classNames (${list.join(', ')})`);
      labels[k] = c;
    }
  }
  let numClasses = classes ? classes.length : 0;
  if (!classes) for (let k = 0; k < n; k++) numClasses = Math.max(numClasses, labels[k] + 1);

  return {
    features,
    labels,
    length: n,
    numFeatures: d,
    numClasses,
    featureNames: names,
    labelName: columnName(labelCol),
    classNames: classes,
    labeled: true,
    hasHeader,
    name: source,
  };
}

/** `Number(cell)`, except that an empty or blank cell is NaN (Number gives 0). */
function parseNumber(cell: string): number {
  const v = +cell;
  return v === 0 && cell.trim() === '' ? Number.NaN : v;
}

/** The distinct labels, sorted numerically when all are numbers, else by code unit. */
function sortedClasses(cells: readonly string[]): string[] {
  const distinct = [...new Set(cells)];
  if (distinct.every((s) => Number.isFinite(parseNumber(s)))) {
    return distinct.sort((a, b) => parseNumber(a) - parseNumber(b) || (a < b ? -1 : a > b ? 1 : 0));
  }
  return distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Splits one line with RFC 4180 quoting: `"a,b"` is one field, `""` inside quotes is a quote. */
function splitQuoted(line: string, delimiter: string, source: string, lineNo: number): string[] {
  const fields: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let quoteStart = 0;
  while (i < line.length) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"' && field.trim() === '') {
      quoted = true;
      quoteStart = fields.length;
      field = '';
    } else if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else {
      field += ch;
    }
    i++;
  }
  if (quoted) {
    throw new DataError(
      source,
      `line ${lineNo}, column ${quoteStart + 1}: unterminated quoted field (quoted fields cannot span lines)`,
      { line: lineNo, column: quoteStart + 1 },
    );
  }
  fields.push(field);
  return fields;
}
