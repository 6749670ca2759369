/** A cloud transcriber's failure: `retryable` says whether trying again later can help (network, 5xx) or not (authorization, bad request). */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code?: number | string,
  ) {
    super(message);
  }
}
