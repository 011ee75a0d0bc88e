/**
 * Version of the published layout and CSV bytes. Bump it whenever the same config would produce
 * different files; it is part of the config hash, so old and new datasets never share a prefix.
 * 1: the four CSVs. 2: schema.json, truth/users.csv, tasks/upload_50gb_next_hour.csv. 3: floats
 * in the truth and task files always with a decimal point (`0.0`); schema.json 2 (CSV dialect,
 * strftime timestamp format); the task options `enabled` and `userFraction`.
 */
export const FORMAT_VERSION = 3;
