ALTER TABLE "agent_sessions" DROP CONSTRAINT "agent_sessions_title_length";--> statement-breakpoint
ALTER TABLE "agent_sessions" DROP CONSTRAINT "agent_sessions_model_length";--> statement-breakpoint
ALTER TABLE "agent_sessions" DROP CONSTRAINT "agent_sessions_ended_after_start";--> statement-breakpoint
ALTER TABLE "agent_sessions" DROP CONSTRAINT "agent_sessions_activity_after_start";--> statement-breakpoint
ALTER TABLE "agent_sessions" DROP CONSTRAINT "agent_sessions_status_matches_end";--> statement-breakpoint
ALTER TABLE "agent_sessions" DROP CONSTRAINT "agent_sessions_figures_non_negative";--> statement-breakpoint
ALTER TABLE "ai_usage_daily" DROP CONSTRAINT "ai_usage_daily_bucket_range";--> statement-breakpoint
ALTER TABLE "ai_usage_daily" DROP CONSTRAINT "ai_usage_daily_date_is_utc_midnight";--> statement-breakpoint
ALTER TABLE "ai_usage_daily" DROP CONSTRAINT "ai_usage_daily_non_negative";--> statement-breakpoint
ALTER TABLE "ai_usage_daily" DROP CONSTRAINT "ai_usage_daily_total_is_sum";--> statement-breakpoint
ALTER TABLE "ai_usage_daily" DROP CONSTRAINT "ai_usage_daily_outcomes_add_up";--> statement-breakpoint
ALTER TABLE "quota_reservations" ALTER COLUMN "id" SET DEFAULT private.uuid_v7();