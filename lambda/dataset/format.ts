/**
 * Version of the published layout and CSV bytes. Bump it whenever the same config would produce
 * different files; it is part of the config hash, so old and new datasets never share a prefix.
 */
export const FORMAT_VERSION = 1;
