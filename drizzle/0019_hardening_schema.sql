-- migration-safety: allow alter-column-type the money totals of daily rows and sessions lose their precision limit (numeric(20,10) to numeric): binary compatible, no rewrite, and no sum can overflow them any more
CREATE TYPE "public"."usage_kind" AS ENUM('request', 'adjustment');--> statement-breakpoint
DROP VIEW "public"."ai_usage_monthly";--> statement-breakpoint
ALTER TABLE "quota_tiers" DROP CONSTRAINT "quota_tiers_limits_non_negative";--> statement-breakpoint
ALTER TABLE "user_quotas" DROP CONSTRAINT "user_quotas_limits_non_negative";--> statement-breakpoint
ALTER TABLE "ai_usage_events" DROP CONSTRAINT "ai_usage_events_tokens_range";--> statement-breakpoint
ALTER TABLE "ai_usage_events" DROP CONSTRAINT "ai_usage_events_cost_non_negative";--> statement-breakpoint
ALTER TABLE "model_prices" DROP CONSTRAINT "model_prices_non_negative";--> statement-breakpoint
ALTER TABLE "agent_sessions" ALTER COLUMN "cost_usd" SET DATA TYPE numeric;--> statement-breakpoint
ALTER TABLE "agent_sessions" ALTER COLUMN "cost_usd" SET DEFAULT '0';--> statement-breakpoint
ALTER TABLE "ai_usage_daily" ALTER COLUMN "cost_usd" SET DATA TYPE numeric;--> statement-breakpoint
ALTER TABLE "ai_usage_daily" ALTER COLUMN "cost_usd" SET DEFAULT '0';--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD COLUMN "message_limit" integer DEFAULT 5000 NOT NULL;--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD COLUMN "message_chars_limit" integer DEFAULT 1000000 NOT NULL;--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD COLUMN "parts_bytes_limit" integer DEFAULT 1048576 NOT NULL;--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD COLUMN "tool_calls_limit" integer DEFAULT 256 NOT NULL;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD COLUMN "is_anonymous_default" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD COLUMN "max_active_sessions" integer DEFAULT 50 NOT NULL;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD COLUMN "max_sessions_per_day" integer DEFAULT 500 NOT NULL;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD COLUMN "max_messages_per_session" integer DEFAULT 5000 NOT NULL;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD COLUMN "max_message_chars" integer DEFAULT 1000000 NOT NULL;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD COLUMN "max_parts_bytes" integer DEFAULT 1048576 NOT NULL;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD COLUMN "max_metadata_bytes" integer DEFAULT 16384 NOT NULL;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD COLUMN "max_tool_calls_per_message" integer DEFAULT 256 NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD COLUMN "kind" "usage_kind" DEFAULT 'request' NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD COLUMN "adjusts_event_id" bigint;--> statement-breakpoint
CREATE UNIQUE INDEX "quota_tiers_one_anonymous_default_key" ON "quota_tiers" USING btree ("is_anonymous_default") WHERE "quota_tiers"."is_anonymous_default";--> statement-breakpoint
CREATE INDEX "ai_usage_events_adjusts_idx" ON "ai_usage_events" USING btree ("adjusts_event_id") WHERE "ai_usage_events"."adjusts_event_id" is not null;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD CONSTRAINT "quota_tiers_limits_range" CHECK (monthly_token_limit between 0 and 1000000000000000 and monthly_cost_limit_usd between 0 and 1000000000 and daily_request_limit between 0 and 1000000000);--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD CONSTRAINT "quota_tiers_write_limits_range" CHECK (max_active_sessions between 1 and 10000
        and max_sessions_per_day between 1 and 1000000
        and max_messages_per_session between 1 and 1000000
        and max_message_chars between 1 and 1000000
        and max_parts_bytes between 1 and 16777216
        and max_metadata_bytes between 64 and 1048576
        and max_tool_calls_per_message between 0 and 10000);--> statement-breakpoint
ALTER TABLE "user_quotas" ADD CONSTRAINT "user_quotas_limits_range" CHECK (monthly_token_limit between 0 and 1000000000000000 and monthly_cost_limit_usd between 0 and 1000000000 and daily_request_limit between 0 and 1000000000 and monthly_token_limit_override between 0 and 1000000000000000 and monthly_cost_limit_usd_override between 0 and 1000000000 and daily_request_limit_override between 0 and 1000000000);--> statement-breakpoint
ALTER TABLE "model_prices" ADD CONSTRAINT "model_prices_range" CHECK (input_per_mtok between 0 and 10000 and output_per_mtok between 0 and 10000 and cached_input_per_mtok between 0 and 10000 and cache_write_per_mtok between 0 and 10000 and reasoning_per_mtok between 0 and 10000);--> statement-breakpoint
CREATE VIEW "public"."ai_usage_monthly" WITH (security_invoker = true) AS (select user_id,
      (date_trunc('month', date, 'UTC') at time zone 'UTC')::date as month,
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
      sum(cost_usd)::numeric as cost_usd
    from public.ai_usage_daily
    group by user_id, date_trunc('month', date, 'UTC'), provider, model, agent_mode);