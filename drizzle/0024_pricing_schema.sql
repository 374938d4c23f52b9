CREATE TYPE "public"."service_tier" AS ENUM('standard', 'batch', 'flex', 'priority');--> statement-breakpoint
DROP VIEW "public"."ai_usage_monthly";--> statement-breakpoint
ALTER TABLE "ai_usage_events" DROP CONSTRAINT "ai_usage_events_key_length";--> statement-breakpoint
ALTER TABLE "ai_usage_events" DROP CONSTRAINT "ai_usage_events_provider_length";--> statement-breakpoint
ALTER TABLE "ai_usage_events" DROP CONSTRAINT "ai_usage_events_model_length";--> statement-breakpoint
ALTER TABLE "ai_usage_events" DROP CONSTRAINT "ai_usage_events_cost_known_unless_unpriced";--> statement-breakpoint
ALTER TABLE "ai_usage_events" DROP CONSTRAINT "ai_usage_events_latency_non_negative";--> statement-breakpoint
ALTER TABLE "ai_usage_events" DROP CONSTRAINT "ai_usage_events_error_code_length";--> statement-breakpoint
DROP INDEX "model_prices_model_effective_key";--> statement-breakpoint
ALTER TABLE "ai_usage_daily" ADD COLUMN "cache_write_1h_tokens" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_usage_daily" ADD COLUMN "web_search_requests" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_usage_daily" ADD COLUMN "tool_requests" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_usage_daily" ADD COLUMN "byok_cost_usd" numeric DEFAULT '0' NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD COLUMN "cache_write_1h_tokens" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD COLUMN "web_search_requests" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD COLUMN "tool_requests" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD COLUMN "service_tier" "service_tier" DEFAULT 'standard' NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD COLUMN "byok" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "model_prices" ADD COLUMN "service_tier" "service_tier" DEFAULT 'standard' NOT NULL;--> statement-breakpoint
ALTER TABLE "model_prices" ADD COLUMN "min_context_tokens" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "model_prices" ADD COLUMN "cache_write_1h_per_mtok" numeric(14, 6);--> statement-breakpoint
ALTER TABLE "model_prices" ADD COLUMN "web_search_per_k" numeric(14, 6);--> statement-breakpoint
ALTER TABLE "model_prices" ADD COLUMN "tool_request_per_k" numeric(14, 6);--> statement-breakpoint
ALTER TABLE "model_prices" ADD COLUMN "source" text;--> statement-breakpoint
CREATE UNIQUE INDEX "model_prices_schedule_key" ON "model_prices" USING btree ("provider","model","service_tier","effective_from","min_context_tokens");--> statement-breakpoint
ALTER TABLE "model_prices" ADD CONSTRAINT "model_prices_cache_write_1h_range" CHECK ("model_prices"."cache_write_1h_per_mtok" between 0 and 10000);--> statement-breakpoint
ALTER TABLE "model_prices" ADD CONSTRAINT "model_prices_extras_range" CHECK (web_search_per_k between 0 and 10000 and tool_request_per_k between 0 and 10000);--> statement-breakpoint
ALTER TABLE "model_prices" ADD CONSTRAINT "model_prices_min_context_range" CHECK ("model_prices"."min_context_tokens" between 0 and 300000000);--> statement-breakpoint
ALTER TABLE "model_prices" ADD CONSTRAINT "model_prices_source_length" CHECK (char_length("model_prices"."source") between 1 and 300);--> statement-breakpoint
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
      sum(cost_usd)::numeric as cost_usd,
      sum(cache_write_1h_tokens)::bigint as cache_write_1h_tokens,
      sum(web_search_requests)::bigint as web_search_requests,
      sum(tool_requests)::bigint as tool_requests,
      sum(byok_cost_usd)::numeric as byok_cost_usd
    from public.ai_usage_daily
    group by user_id, date_trunc('month', date, 'UTC'), provider, model, agent_mode);