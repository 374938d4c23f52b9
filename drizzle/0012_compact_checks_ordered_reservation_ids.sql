ALTER TABLE "agent_sessions" DROP CONSTRAINT "agent_sessions_figures_non_negative";--> statement-breakpoint
ALTER TABLE "ai_usage_daily" DROP CONSTRAINT "ai_usage_daily_non_negative";--> statement-breakpoint
ALTER TABLE "quota_reservations" ALTER COLUMN "id" SET DEFAULT private.uuid_v7();--> statement-breakpoint
ALTER TABLE "agent_sessions" ADD CONSTRAINT "agent_sessions_figures_non_negative" CHECK (least("agent_sessions"."message_count", "agent_sessions"."tool_call_count", "agent_sessions"."request_count", "agent_sessions"."latency_count") >= 0
        and least("agent_sessions"."input_tokens", "agent_sessions"."output_tokens", "agent_sessions"."total_tokens", "agent_sessions"."latency_ms_sum") >= 0
        and "agent_sessions"."cost_usd" >= 0);--> statement-breakpoint
ALTER TABLE "ai_usage_daily" ADD CONSTRAINT "ai_usage_daily_non_negative" CHECK (least("ai_usage_daily"."success_count", "ai_usage_daily"."error_count", "ai_usage_daily"."cancelled_count", "ai_usage_daily"."unpriced_count", "ai_usage_daily"."latency_count") >= 0
        and least("ai_usage_daily"."input_tokens", "ai_usage_daily"."output_tokens", "ai_usage_daily"."cached_input_tokens", "ai_usage_daily"."cache_write_tokens",
                  "ai_usage_daily"."reasoning_tokens", "ai_usage_daily"."latency_ms_sum") >= 0
        and "ai_usage_daily"."cost_usd" >= 0);