DROP INDEX "agent_sessions_active_idx";--> statement-breakpoint
DROP INDEX "ai_usage_events_occurred_at_idx";--> statement-breakpoint
CREATE INDEX "agent_sessions_active_idx" ON "agent_sessions" USING btree ("user_id") WHERE "agent_sessions"."ended_at" is null;--> statement-breakpoint
CREATE INDEX "ai_usage_events_occurred_at_idx" ON "ai_usage_events" USING brin ("occurred_at");