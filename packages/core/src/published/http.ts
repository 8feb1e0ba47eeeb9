// The HTTP client moved to net/ (one bounded client for every download); kept for existing imports.
export { DEFAULT_TIMEOUT_MS, downloadToFile, fetchBuffer, fetchStreaming, UnreachableError } from '../net/bounded-fetch';
export type { DownloadedFile, FetchedBody, FetchOptions } from '../net/bounded-fetch';
