import type { ServiceLimits } from './types.js';

/** The {@link ServiceLimits} of a service's options (which carry them among everything else). */
export function limitsOf(options: ServiceLimits): ServiceLimits {
  return {
    maxPayload: options.maxPayload,
    maxIdLength: options.maxIdLength,
    maxRoomsPerSocket: options.maxRoomsPerSocket,
    maxEventNameLength: options.maxEventNameLength,
    maxLobbyMembers: options.maxLobbyMembers,
  };
}
