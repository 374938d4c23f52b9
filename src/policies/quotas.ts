import { quotaAlertHeadroom, quotaReservations, quotaTiers, userQuotas } from '../schema/quotas.js';
import { ownerMayRead, signedInMayRead } from './factories.js';

// Quotas are set by the database (sign-up) and service_role; users only read theirs.
export const tiersRead = signedInMayRead('signed-in users read quota tiers', quotaTiers);
export const userQuotasOwnerRead = ownerMayRead('users read their own quota', userQuotas, userQuotas.userId);
export const reservationsOwnerRead = ownerMayRead(
  'users read their own reservations',
  quotaReservations,
  quotaReservations.userId,
);
export const alertHeadroomOwnerRead = ownerMayRead(
  'users read their own alert headroom',
  quotaAlertHeadroom,
  quotaAlertHeadroom.userId,
);
