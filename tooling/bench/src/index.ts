export { type MeasureOptions, median, nsPerOperation, type Operation } from './measure.ts';
export { machineLine, markdownTable, publish } from './report.ts';
export { compare, type Direction, type ResultRow } from './result-row.ts';
