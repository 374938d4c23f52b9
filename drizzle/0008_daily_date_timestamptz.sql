DROP VIEW "public"."ai_usage_monthly";--> statement-breakpoint
ALTER TABLE "ai_usage_daily" ALTER COLUMN "date" SET DATA TYPE timestamp with time zone;--> statement-breakpoint
ALTER TABLE "ai_usage_daily" ADD CONSTRAINT "ai_usage_daily_date_is_utc_midnight" CHECK ("ai_usage_daily"."date" = date_trunc('day', "ai_usage_daily"."date", 'UTC'));--> statement-breakpoint
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
      sum(cost_usd) as cost_usd
    from public.ai_usage_daily
    group by user_id, date_trunc('month', date, 'UTC'), provider, model, agent_mode);