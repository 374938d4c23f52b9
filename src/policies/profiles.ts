import { auditLog, profiles } from '../schema/profiles.js';
import { ownerMayRead, ownerMayUpdate } from './factories.js';

// Profiles: users read theirs and change only the display fields (column
// grants in the security migration); email, verification and the admin flag
// come from the database or service_role.
export const profilesOwnerRead = ownerMayRead('users read their own profile', profiles, profiles.id);
export const profilesOwnerUpdate = ownerMayUpdate('users update their own profile', profiles, profiles.id);

// Audit log: users read the entries about themselves; nobody writes through the API.
export const auditLogSubjectRead = ownerMayRead('users read audit entries about them', auditLog, auditLog.subjectId);
