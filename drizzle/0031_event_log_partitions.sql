CREATE TABLE "ai_usage_event_keys" (
	"user_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"event_id" bigint NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ai_usage_event_keys_user_id_idempotency_key_pk" PRIMARY KEY("user_id","idempotency_key")
);
--> statement-breakpoint
ALTER TABLE "ai_usage_event_keys" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "ai_usage_events" DROP CONSTRAINT "ai_usage_events_session_id_agent_sessions_id_fk";
--> statement-breakpoint
ALTER TABLE "ai_usage_events" DROP CONSTRAINT "ai_usage_events_message_id_agent_messages_id_fk";
--> statement-breakpoint
ALTER TABLE "ai_usage_events" DROP CONSTRAINT "ai_usage_events_reservation_id_quota_reservations_id_fk";
--> statement-breakpoint
DROP INDEX "ai_usage_events_user_key_key";--> statement-breakpoint
DROP INDEX "ai_usage_events_reservation_idx";--> statement-breakpoint
ALTER TABLE "ai_usage_events" DROP CONSTRAINT "ai_usage_events_pkey";--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD CONSTRAINT "ai_usage_events_id_occurred_at_pk" PRIMARY KEY("id","occurred_at");--> statement-breakpoint
CREATE INDEX "ai_usage_event_keys_created_at_idx" ON "ai_usage_event_keys" USING brin ("created_at");--> statement-breakpoint
CREATE POLICY "users read their own idempotency keys" ON "ai_usage_event_keys" AS PERMISSIVE FOR SELECT TO "authenticated" USING ("ai_usage_event_keys"."user_id" = (select auth.uid()));