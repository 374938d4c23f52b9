ALTER TABLE "quota_reservations" DROP CONSTRAINT "quota_reservations_key_length";--> statement-breakpoint
ALTER TABLE "quota_reservations" DROP CONSTRAINT "quota_reservations_estimates_non_negative";--> statement-breakpoint
ALTER TABLE "quota_reservations" DROP CONSTRAINT "quota_reservations_expires_after_creation";--> statement-breakpoint
ALTER TABLE "quota_reservations" DROP CONSTRAINT "quota_reservations_resolved_when_final";