CREATE TYPE "public"."notification_kind" AS ENUM('threshold_reached', 'limit_refused');--> statement-breakpoint
CREATE TYPE "public"."quota_limit" AS ENUM('monthly_tokens', 'monthly_cost_usd', 'daily_requests');--> statement-breakpoint
CREATE TABLE "quota_alert_headroom" (
	"user_id" uuid NOT NULL,
	"bucket" smallint NOT NULL,
	"day_start" timestamp with time zone NOT NULL,
	"valid_until" timestamp with time zone NOT NULL,
	"tokens_left" numeric NOT NULL,
	"cost_left_usd" numeric NOT NULL,
	"requests_left" numeric NOT NULL,
	CONSTRAINT "quota_alert_headroom_pkey" PRIMARY KEY("user_id","bucket")
);
--> statement-breakpoint
ALTER TABLE "quota_alert_headroom" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "quota_notifications" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "quota_notifications_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"user_id" uuid NOT NULL,
	"kind" "notification_kind" NOT NULL,
	"quota_limit" "quota_limit" NOT NULL,
	"threshold_percent" smallint NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"used" numeric NOT NULL,
	"limit_value" numeric NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"read_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"claim_id" uuid,
	"claimed_until" timestamp with time zone,
	"attempts" smallint DEFAULT 0 NOT NULL,
	"last_error" text,
	"gave_up_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "quota_notifications" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD COLUMN "alert_percents" smallint[] DEFAULT '{50,80,100}'::smallint[] NOT NULL;--> statement-breakpoint
ALTER TABLE "quota_alert_headroom" ADD CONSTRAINT "quota_alert_headroom_user_id_profiles_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quota_notifications" ADD CONSTRAINT "quota_notifications_user_id_profiles_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "quota_notifications_once_key" ON "quota_notifications" USING btree ("user_id","quota_limit","kind","threshold_percent","period_start");--> statement-breakpoint
CREATE INDEX "quota_notifications_outbox_idx" ON "quota_notifications" USING btree ("id") WHERE "quota_notifications"."delivered_at" is null and "quota_notifications"."gave_up_at" is null;--> statement-breakpoint
CREATE INDEX "quota_notifications_done_idx" ON "quota_notifications" USING btree (coalesce("delivered_at", "gave_up_at")) WHERE "quota_notifications"."delivered_at" is not null or "quota_notifications"."gave_up_at" is not null;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD CONSTRAINT "quota_tiers_alert_percents_valid" CHECK (cardinality(alert_percents) <= 10
        and coalesce(array_ndims(alert_percents), 1) = 1
        and array_position(alert_percents, null) is null
        and 1 <= all(alert_percents) and 100 >= all(alert_percents));--> statement-breakpoint
CREATE POLICY "users read their own alert headroom" ON "quota_alert_headroom" AS PERMISSIVE FOR SELECT TO "authenticated" USING ("quota_alert_headroom"."user_id" = (select auth.uid()));--> statement-breakpoint
CREATE POLICY "users read their own quota notifications" ON "quota_notifications" AS PERMISSIVE FOR SELECT TO "authenticated" USING ("quota_notifications"."user_id" = (select auth.uid()));--> statement-breakpoint
CREATE POLICY "users mark their own quota notifications read" ON "quota_notifications" AS PERMISSIVE FOR UPDATE TO "authenticated" USING ("quota_notifications"."user_id" = (select auth.uid())) WITH CHECK ("quota_notifications"."user_id" = (select auth.uid()));