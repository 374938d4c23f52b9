CREATE TYPE "public"."agent_mode" AS ENUM('understand', 'debug', 'implement');--> statement-breakpoint
CREATE TYPE "public"."cost_source" AS ENUM('given', 'price_table', 'free_local', 'unpriced');--> statement-breakpoint
CREATE TYPE "public"."message_role" AS ENUM('user', 'assistant', 'system', 'tool');--> statement-breakpoint
CREATE TYPE "public"."reservation_status" AS ENUM('active', 'settled', 'released', 'expired');--> statement-breakpoint
CREATE TYPE "public"."session_status" AS ENUM('active', 'completed', 'failed', 'cancelled', 'abandoned');--> statement-breakpoint
CREATE TYPE "public"."usage_status" AS ENUM('success', 'error', 'cancelled');--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_id" uuid,
	"actor_role" text DEFAULT current_user NOT NULL,
	"subject_id" uuid,
	"action" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text,
	"before" jsonb,
	"after" jsonb,
	"ip_address" "inet",
	"user_agent" text,
	CONSTRAINT "audit_log_action_length" CHECK (char_length("audit_log"."action") between 1 and 100),
	CONSTRAINT "audit_log_entity_type_length" CHECK (char_length("audit_log"."entity_type") between 1 and 100),
	CONSTRAINT "audit_log_user_agent_length" CHECK (char_length("audit_log"."user_agent") <= 1000)
);
--> statement-breakpoint
ALTER TABLE "audit_log" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "profiles" (
	"id" uuid PRIMARY KEY NOT NULL,
	"email" text,
	"email_verified" boolean DEFAULT false NOT NULL,
	"phone" text,
	"display_name" text,
	"avatar_url" text,
	"is_admin" boolean DEFAULT false NOT NULL,
	"is_anonymous" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "profiles_display_name_length" CHECK (char_length("profiles"."display_name") <= 200),
	CONSTRAINT "profiles_avatar_url_length" CHECK (char_length("profiles"."avatar_url") <= 2048)
);
--> statement-breakpoint
ALTER TABLE "profiles" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "agent_messages" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "agent_messages_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"session_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"role" "message_role" NOT NULL,
	"content" text NOT NULL,
	"parts" jsonb,
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"model" text,
	"latency_ms" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agent_messages_seq_positive" CHECK ("agent_messages"."seq" >= 1),
	CONSTRAINT "agent_messages_content_length" CHECK (char_length("agent_messages"."content") <= 1000000),
	CONSTRAINT "agent_messages_not_empty" CHECK (char_length("agent_messages"."content") > 0 or "agent_messages"."parts" is not null),
	CONSTRAINT "agent_messages_model_length" CHECK (char_length("agent_messages"."model") <= 200),
	CONSTRAINT "agent_messages_tokens_non_negative" CHECK ("agent_messages"."input_tokens" >= 0 and "agent_messages"."output_tokens" >= 0),
	CONSTRAINT "agent_messages_latency_non_negative" CHECK ("agent_messages"."latency_ms" >= 0)
);
--> statement-breakpoint
ALTER TABLE "agent_messages" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "agent_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"agent_mode" "agent_mode" NOT NULL,
	"title" text,
	"model" text,
	"status" "session_status" DEFAULT 'active' NOT NULL,
	"client_metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_activity_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"message_count" integer DEFAULT 0 NOT NULL,
	"tool_call_count" integer DEFAULT 0 NOT NULL,
	"request_count" integer DEFAULT 0 NOT NULL,
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"total_tokens" bigint DEFAULT 0 NOT NULL,
	"cost_usd" numeric(20, 10) DEFAULT '0' NOT NULL,
	"latency_ms_sum" bigint DEFAULT 0 NOT NULL,
	"latency_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agent_sessions_title_length" CHECK (char_length("agent_sessions"."title") <= 500),
	CONSTRAINT "agent_sessions_model_length" CHECK (char_length("agent_sessions"."model") <= 200),
	CONSTRAINT "agent_sessions_ended_after_start" CHECK ("agent_sessions"."ended_at" >= "agent_sessions"."started_at"),
	CONSTRAINT "agent_sessions_activity_after_start" CHECK ("agent_sessions"."last_activity_at" >= "agent_sessions"."started_at"),
	CONSTRAINT "agent_sessions_status_matches_end" CHECK (("agent_sessions"."status" = 'active') = ("agent_sessions"."ended_at" is null)),
	CONSTRAINT "agent_sessions_figures_non_negative" CHECK ("agent_sessions"."message_count" >= 0 and "agent_sessions"."tool_call_count" >= 0 and "agent_sessions"."request_count" >= 0
        and "agent_sessions"."input_tokens" >= 0 and "agent_sessions"."output_tokens" >= 0 and "agent_sessions"."total_tokens" >= 0
        and "agent_sessions"."cost_usd" >= 0 and "agent_sessions"."latency_ms_sum" >= 0 and "agent_sessions"."latency_count" >= 0)
);
--> statement-breakpoint
ALTER TABLE "agent_sessions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "quota_reservations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"estimated_tokens" bigint NOT NULL,
	"estimated_cost_usd" numeric(20, 10) DEFAULT '0' NOT NULL,
	"status" "reservation_status" DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	CONSTRAINT "quota_reservations_key_length" CHECK (char_length("quota_reservations"."idempotency_key") between 1 and 200),
	CONSTRAINT "quota_reservations_estimates_non_negative" CHECK ("quota_reservations"."estimated_tokens" >= 0 and "quota_reservations"."estimated_cost_usd" >= 0),
	CONSTRAINT "quota_reservations_expires_after_creation" CHECK ("quota_reservations"."expires_at" > "quota_reservations"."created_at"),
	CONSTRAINT "quota_reservations_resolved_when_final" CHECK (("quota_reservations"."status" = 'active') = ("quota_reservations"."resolved_at" is null))
);
--> statement-breakpoint
ALTER TABLE "quota_reservations" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "quota_tiers" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"monthly_token_limit" bigint NOT NULL,
	"monthly_cost_limit_usd" numeric(14, 4) NOT NULL,
	"daily_request_limit" integer NOT NULL,
	"soft_limit_percent" smallint DEFAULT 80 NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "quota_tiers_id_format" CHECK ("quota_tiers"."id" ~ '^[a-z][a-z0-9_-]{0,39}$'),
	CONSTRAINT "quota_tiers_name_length" CHECK (char_length("quota_tiers"."name") between 1 and 100),
	CONSTRAINT "quota_tiers_limits_non_negative" CHECK ("quota_tiers"."monthly_token_limit" >= 0 and "quota_tiers"."monthly_cost_limit_usd" >= 0 and "quota_tiers"."daily_request_limit" >= 0),
	CONSTRAINT "quota_tiers_soft_limit_range" CHECK ("quota_tiers"."soft_limit_percent" between 1 and 100)
);
--> statement-breakpoint
ALTER TABLE "quota_tiers" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "user_quotas" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"tier_id" text NOT NULL,
	"monthly_token_limit" bigint NOT NULL,
	"monthly_cost_limit_usd" numeric(14, 4) NOT NULL,
	"daily_request_limit" integer NOT NULL,
	"soft_limit_percent" smallint NOT NULL,
	"monthly_token_limit_override" bigint,
	"monthly_cost_limit_usd_override" numeric(14, 4),
	"daily_request_limit_override" integer,
	"soft_limit_percent_override" smallint,
	"reset_day" smallint DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_quotas_limits_non_negative" CHECK ("user_quotas"."monthly_token_limit" >= 0 and "user_quotas"."monthly_cost_limit_usd" >= 0 and "user_quotas"."daily_request_limit" >= 0
        and "user_quotas"."monthly_token_limit_override" >= 0 and "user_quotas"."monthly_cost_limit_usd_override" >= 0
        and "user_quotas"."daily_request_limit_override" >= 0),
	CONSTRAINT "user_quotas_soft_limit_range" CHECK ("user_quotas"."soft_limit_percent" between 1 and 100 and "user_quotas"."soft_limit_percent_override" between 1 and 100),
	CONSTRAINT "user_quotas_reset_day_range" CHECK ("user_quotas"."reset_day" between 1 and 28)
);
--> statement-breakpoint
ALTER TABLE "user_quotas" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "ai_providers" (
	"id" text PRIMARY KEY NOT NULL,
	"display_name" text NOT NULL,
	"is_local" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ai_providers_id_format" CHECK ("ai_providers"."id" ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
	CONSTRAINT "ai_providers_display_name_length" CHECK (char_length("ai_providers"."display_name") between 1 and 100)
);
--> statement-breakpoint
ALTER TABLE "ai_providers" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "ai_usage_daily" (
	"user_id" uuid NOT NULL,
	"date" date NOT NULL,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"agent_mode" "agent_mode" NOT NULL,
	"bucket" smallint DEFAULT 0 NOT NULL,
	"request_count" integer DEFAULT 0 NOT NULL,
	"success_count" integer DEFAULT 0 NOT NULL,
	"error_count" integer DEFAULT 0 NOT NULL,
	"cancelled_count" integer DEFAULT 0 NOT NULL,
	"unpriced_count" integer DEFAULT 0 NOT NULL,
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"cached_input_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_write_tokens" bigint DEFAULT 0 NOT NULL,
	"reasoning_tokens" bigint DEFAULT 0 NOT NULL,
	"total_tokens" bigint DEFAULT 0 NOT NULL,
	"cost_usd" numeric(20, 10) DEFAULT '0' NOT NULL,
	"latency_ms_sum" bigint DEFAULT 0 NOT NULL,
	"latency_count" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ai_usage_daily_pkey" PRIMARY KEY("user_id","date","provider","model","agent_mode","bucket"),
	CONSTRAINT "ai_usage_daily_bucket_range" CHECK ("ai_usage_daily"."bucket" between 0 and 63),
	CONSTRAINT "ai_usage_daily_non_negative" CHECK ("ai_usage_daily"."request_count" >= 0 and "ai_usage_daily"."success_count" >= 0 and "ai_usage_daily"."error_count" >= 0
        and "ai_usage_daily"."cancelled_count" >= 0 and "ai_usage_daily"."unpriced_count" >= 0
        and "ai_usage_daily"."input_tokens" >= 0 and "ai_usage_daily"."output_tokens" >= 0 and "ai_usage_daily"."cached_input_tokens" >= 0
        and "ai_usage_daily"."cache_write_tokens" >= 0 and "ai_usage_daily"."reasoning_tokens" >= 0 and "ai_usage_daily"."total_tokens" >= 0
        and "ai_usage_daily"."cost_usd" >= 0 and "ai_usage_daily"."latency_ms_sum" >= 0 and "ai_usage_daily"."latency_count" >= 0),
	CONSTRAINT "ai_usage_daily_total_is_sum" CHECK ("ai_usage_daily"."total_tokens" = "ai_usage_daily"."input_tokens" + "ai_usage_daily"."output_tokens" + "ai_usage_daily"."cached_input_tokens"
        + "ai_usage_daily"."cache_write_tokens" + "ai_usage_daily"."reasoning_tokens"),
	CONSTRAINT "ai_usage_daily_outcomes_add_up" CHECK ("ai_usage_daily"."request_count" = "ai_usage_daily"."success_count" + "ai_usage_daily"."error_count" + "ai_usage_daily"."cancelled_count")
);
--> statement-breakpoint
ALTER TABLE "ai_usage_daily" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "ai_usage_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ai_usage_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"user_id" uuid NOT NULL,
	"session_id" uuid,
	"message_id" bigint,
	"reservation_id" uuid,
	"idempotency_key" text NOT NULL,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"agent_mode" "agent_mode" NOT NULL,
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"cached_input_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_write_tokens" bigint DEFAULT 0 NOT NULL,
	"reasoning_tokens" bigint DEFAULT 0 NOT NULL,
	"total_tokens" bigint GENERATED ALWAYS AS (input_tokens + output_tokens + cached_input_tokens + cache_write_tokens + reasoning_tokens) STORED NOT NULL,
	"cost_usd" numeric(20, 10),
	"cost_source" "cost_source" NOT NULL,
	"price_id" bigint,
	"latency_ms" integer,
	"status" "usage_status" NOT NULL,
	"error_code" text,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ai_usage_events_key_length" CHECK (char_length("ai_usage_events"."idempotency_key") between 1 and 200),
	CONSTRAINT "ai_usage_events_provider_length" CHECK (char_length("ai_usage_events"."provider") between 1 and 64),
	CONSTRAINT "ai_usage_events_model_length" CHECK (char_length("ai_usage_events"."model") between 1 and 200),
	CONSTRAINT "ai_usage_events_tokens_range" CHECK (input_tokens between 0 and 100000000
        and output_tokens between 0 and 100000000
        and cached_input_tokens between 0 and 100000000
        and cache_write_tokens between 0 and 100000000
        and reasoning_tokens between 0 and 100000000),
	CONSTRAINT "ai_usage_events_cost_non_negative" CHECK ("ai_usage_events"."cost_usd" >= 0),
	CONSTRAINT "ai_usage_events_cost_known_unless_unpriced" CHECK (("ai_usage_events"."cost_usd" is null) = ("ai_usage_events"."cost_source" = 'unpriced')),
	CONSTRAINT "ai_usage_events_latency_non_negative" CHECK ("ai_usage_events"."latency_ms" >= 0),
	CONSTRAINT "ai_usage_events_error_code_length" CHECK (char_length("ai_usage_events"."error_code") <= 200)
);
--> statement-breakpoint
ALTER TABLE "ai_usage_events" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "model_prices" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "model_prices_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"effective_from" timestamp with time zone NOT NULL,
	"input_per_mtok" numeric(14, 6) NOT NULL,
	"output_per_mtok" numeric(14, 6) NOT NULL,
	"cached_input_per_mtok" numeric(14, 6) NOT NULL,
	"cache_write_per_mtok" numeric(14, 6) NOT NULL,
	"reasoning_per_mtok" numeric(14, 6) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_prices_model_length" CHECK (char_length("model_prices"."model") between 1 and 200),
	CONSTRAINT "model_prices_non_negative" CHECK ("model_prices"."input_per_mtok" >= 0 and "model_prices"."output_per_mtok" >= 0 and "model_prices"."cached_input_per_mtok" >= 0
        and "model_prices"."cache_write_per_mtok" >= 0 and "model_prices"."reasoning_per_mtok" >= 0)
);
--> statement-breakpoint
ALTER TABLE "model_prices" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "profiles" ADD CONSTRAINT "profiles_id_users_id_fk" FOREIGN KEY ("id") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_messages" ADD CONSTRAINT "agent_messages_session_id_agent_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."agent_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD CONSTRAINT "agent_sessions_user_id_profiles_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quota_reservations" ADD CONSTRAINT "quota_reservations_user_id_profiles_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_quotas" ADD CONSTRAINT "user_quotas_user_id_profiles_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_quotas" ADD CONSTRAINT "user_quotas_tier_id_quota_tiers_id_fk" FOREIGN KEY ("tier_id") REFERENCES "public"."quota_tiers"("id") ON DELETE restrict ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "ai_usage_daily" ADD CONSTRAINT "ai_usage_daily_user_id_profiles_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD CONSTRAINT "ai_usage_events_user_id_profiles_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD CONSTRAINT "ai_usage_events_session_id_agent_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."agent_sessions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD CONSTRAINT "ai_usage_events_message_id_agent_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."agent_messages"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD CONSTRAINT "ai_usage_events_reservation_id_quota_reservations_id_fk" FOREIGN KEY ("reservation_id") REFERENCES "public"."quota_reservations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD CONSTRAINT "ai_usage_events_price_id_model_prices_id_fk" FOREIGN KEY ("price_id") REFERENCES "public"."model_prices"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_prices" ADD CONSTRAINT "model_prices_provider_ai_providers_id_fk" FOREIGN KEY ("provider") REFERENCES "public"."ai_providers"("id") ON DELETE restrict ON UPDATE cascade;--> statement-breakpoint
CREATE INDEX "audit_log_subject_time_idx" ON "audit_log" USING btree ("subject_id","occurred_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_log_occurred_at_idx" ON "audit_log" USING btree ("occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "agent_messages_session_seq_key" ON "agent_messages" USING btree ("session_id","seq");--> statement-breakpoint
CREATE INDEX "agent_messages_user_idx" ON "agent_messages" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "agent_sessions_user_started_idx" ON "agent_sessions" USING btree ("user_id","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "agent_sessions_active_idx" ON "agent_sessions" USING btree ("last_activity_at") WHERE "agent_sessions"."ended_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "quota_reservations_user_key_key" ON "quota_reservations" USING btree ("user_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "quota_reservations_active_idx" ON "quota_reservations" USING btree ("user_id","expires_at") WHERE "quota_reservations"."status" = 'active';--> statement-breakpoint
CREATE UNIQUE INDEX "quota_tiers_one_default_key" ON "quota_tiers" USING btree ("is_default") WHERE "quota_tiers"."is_default";--> statement-breakpoint
CREATE INDEX "user_quotas_tier_idx" ON "user_quotas" USING btree ("tier_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ai_usage_events_user_key_key" ON "ai_usage_events" USING btree ("user_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "ai_usage_events_user_time_idx" ON "ai_usage_events" USING btree ("user_id","occurred_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ai_usage_events_session_idx" ON "ai_usage_events" USING btree ("session_id") WHERE "ai_usage_events"."session_id" is not null;--> statement-breakpoint
CREATE INDEX "ai_usage_events_message_idx" ON "ai_usage_events" USING btree ("message_id") WHERE "ai_usage_events"."message_id" is not null;--> statement-breakpoint
CREATE INDEX "ai_usage_events_reservation_idx" ON "ai_usage_events" USING btree ("reservation_id") WHERE "ai_usage_events"."reservation_id" is not null;--> statement-breakpoint
CREATE INDEX "ai_usage_events_price_idx" ON "ai_usage_events" USING btree ("price_id") WHERE "ai_usage_events"."price_id" is not null;--> statement-breakpoint
CREATE INDEX "ai_usage_events_occurred_at_idx" ON "ai_usage_events" USING btree ("occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "model_prices_model_effective_key" ON "model_prices" USING btree ("provider","model","effective_from");--> statement-breakpoint
CREATE VIEW "public"."users" WITH (security_barrier = true, security_invoker = true) AS (select id, email, display_name, created_at from public.profiles);--> statement-breakpoint
CREATE VIEW "public"."ai_usage_monthly" WITH (security_invoker = true) AS (select user_id,
      date_trunc('month', date)::date as month,
      provider, model, agent_mode,
      sum(request_count)::bigint as request_count,
      sum(success_count)::bigint as success_count,
      sum(error_count)::bigint as error_count,
      sum(cancelled_count)::bigint as cancelled_count,
      sum(unpriced_count)::bigint as unpriced_count,
      sum(input_tokens)::bigint as input_tokens,
      sum(output_tokens)::bigint as output_tokens,
      sum(cached_input_tokens)::bigint as cached_input_tokens,
      sum(cache_write_tokens)::bigint as cache_write_tokens,
      sum(reasoning_tokens)::bigint as reasoning_tokens,
      sum(total_tokens)::bigint as total_tokens,
      sum(cost_usd) as cost_usd
    from public.ai_usage_daily
    group by user_id, date_trunc('month', date), provider, model, agent_mode);--> statement-breakpoint
CREATE POLICY "users read audit entries about them" ON "audit_log" AS PERMISSIVE FOR SELECT TO "authenticated" USING ("audit_log"."subject_id" = (select auth.uid()));--> statement-breakpoint
CREATE POLICY "users read their own profile" ON "profiles" AS PERMISSIVE FOR SELECT TO "authenticated" USING ("profiles"."id" = (select auth.uid()));--> statement-breakpoint
CREATE POLICY "users update their own profile" ON "profiles" AS PERMISSIVE FOR UPDATE TO "authenticated" USING ("profiles"."id" = (select auth.uid())) WITH CHECK ("profiles"."id" = (select auth.uid()));--> statement-breakpoint
CREATE POLICY "users add messages to their sessions" ON "agent_messages" AS PERMISSIVE FOR INSERT TO "authenticated" WITH CHECK ("agent_messages"."user_id" = (select auth.uid()));--> statement-breakpoint
CREATE POLICY "users read messages of their sessions" ON "agent_messages" AS PERMISSIVE FOR SELECT TO "authenticated" USING ("agent_messages"."user_id" = (select auth.uid()));--> statement-breakpoint
CREATE POLICY "users start their own sessions" ON "agent_sessions" AS PERMISSIVE FOR INSERT TO "authenticated" WITH CHECK ("agent_sessions"."user_id" = (select auth.uid()));--> statement-breakpoint
CREATE POLICY "users read their own sessions" ON "agent_sessions" AS PERMISSIVE FOR SELECT TO "authenticated" USING ("agent_sessions"."user_id" = (select auth.uid()));--> statement-breakpoint
CREATE POLICY "users update their own sessions" ON "agent_sessions" AS PERMISSIVE FOR UPDATE TO "authenticated" USING ("agent_sessions"."user_id" = (select auth.uid())) WITH CHECK ("agent_sessions"."user_id" = (select auth.uid()));--> statement-breakpoint
CREATE POLICY "users read their own reservations" ON "quota_reservations" AS PERMISSIVE FOR SELECT TO "authenticated" USING ("quota_reservations"."user_id" = (select auth.uid()));--> statement-breakpoint
CREATE POLICY "signed-in users read quota tiers" ON "quota_tiers" AS PERMISSIVE FOR SELECT TO "authenticated" USING (true);--> statement-breakpoint
CREATE POLICY "users read their own quota" ON "user_quotas" AS PERMISSIVE FOR SELECT TO "authenticated" USING ("user_quotas"."user_id" = (select auth.uid()));--> statement-breakpoint
CREATE POLICY "signed-in users read providers" ON "ai_providers" AS PERMISSIVE FOR SELECT TO "authenticated" USING (true);--> statement-breakpoint
CREATE POLICY "users read their own daily usage" ON "ai_usage_daily" AS PERMISSIVE FOR SELECT TO "authenticated" USING (("ai_usage_daily"."user_id" = (select auth.uid()) or (select private.is_admin())));--> statement-breakpoint
CREATE POLICY "users read their own usage events" ON "ai_usage_events" AS PERMISSIVE FOR SELECT TO "authenticated" USING (("ai_usage_events"."user_id" = (select auth.uid()) or (select private.is_admin())));--> statement-breakpoint
CREATE POLICY "signed-in users read model prices" ON "model_prices" AS PERMISSIVE FOR SELECT TO "authenticated" USING (true);