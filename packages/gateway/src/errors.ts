/**
 * Why the gateway answers a request with a carrier Error instead of the
 * upstream's Response. `code` is the carrier error code the browser receives
 * (docs/protocol.md, "WebSocket carrier").
 */
import { SyncstateError, type CarrierErrorCode } from '@syncstate-ts/codec';

export type RelayErrorCode = Extract<CarrierErrorCode, 'unavailable' | 'no-answer' | 'forbidden' | 'too-many-subscriptions'>;

export class RelayError extends SyncstateError<RelayErrorCode> {
  override name = 'RelayError';
}
