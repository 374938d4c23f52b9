import { agentMessages, agentSessions } from '../schema/agentSessions.js';
import { ownerMayInsert, ownerMayRead, ownerMayUpdate } from './factories.js';

// Sessions and messages may be written by the Witchcraft client itself
// (supabase-js, as the signed-in user) or by the backend. The database
// guards what matters either way: the owner is the signed-in user, messages
// go only into the owner's active sessions, and figures and sequence numbers
// are set by triggers, not by the writer.
export const sessionsOwnerRead = ownerMayRead('users read their own sessions', agentSessions, agentSessions.userId);
export const sessionsOwnerInsert = ownerMayInsert('users start their own sessions', agentSessions, agentSessions.userId);
export const sessionsOwnerUpdate = ownerMayUpdate('users update their own sessions', agentSessions, agentSessions.userId);

export const messagesOwnerRead = ownerMayRead('users read messages of their sessions', agentMessages, agentMessages.userId);
export const messagesOwnerInsert = ownerMayInsert(
  'users add messages to their sessions',
  agentMessages,
  agentMessages.userId,
);
