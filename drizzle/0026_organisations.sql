CREATE TYPE "public"."organisation_role" AS ENUM('owner', 'admin', 'member');--> statement-breakpoint
CREATE TABLE "quota_grants" (
	"id" uuid PRIMARY KEY DEFAULT private.uuid_v7() NOT NULL,
	"user_id" uuid,
	"organisation_id" uuid,
	"tokens" bigint,
	"cost_usd" numeric(14, 4),
	"priority" smallint DEFAULT 0 NOT NULL,
	"reason" text NOT NULL,
	"starts_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"voided_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "quota_grants_one_subject" CHECK (num_nonnulls("quota_grants"."user_id", "quota_grants"."organisation_id") = 1),
	CONSTRAINT "quota_grants_amounts" CHECK (num_nonnulls(tokens, cost_usd) >= 1
        and tokens between 0 and 1000000000000000
        and cost_usd between 0 and 1000000000),
	CONSTRAINT "quota_grants_priority_range" CHECK ("quota_grants"."priority" between -1000 and 1000),
	CONSTRAINT "quota_grants_reason_length" CHECK (char_length(btrim(reason)) between 1 and 500),
	CONSTRAINT "quota_grants_window" CHECK ("quota_grants"."expires_at" > "quota_grants"."starts_at" and "quota_grants"."starts_at" > '-infinity' and "quota_grants"."expires_at" < 'infinity')
);
--> statement-breakpoint
ALTER TABLE "quota_grants" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "rate_limit_state" (
	"subject_id" uuid PRIMARY KEY NOT NULL,
	"requests_at" timestamp with time zone NOT NULL,
	"tokens_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "rate_limit_state" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "tier_model_limits" (
	"tier_id" text NOT NULL,
	"model_pattern" text NOT NULL,
	"monthly_token_limit" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tier_model_limits_pkey" PRIMARY KEY("tier_id","model_pattern"),
	CONSTRAINT "tier_model_limits_pattern_format" CHECK (model_pattern ~ '^[a-z0-9*][^[:space:]]*/[^[:space:]]+$' and char_length(model_pattern) <= 200),
	CONSTRAINT "tier_model_limits_limit_range" CHECK (monthly_token_limit between 0 and 1000000000000000)
);
--> statement-breakpoint
ALTER TABLE "tier_model_limits" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "organisation_invitations" (
	"id" uuid PRIMARY KEY DEFAULT private.uuid_v7() NOT NULL,
	"organisation_id" uuid NOT NULL,
	"email" text NOT NULL,
	"role" "organisation_role" DEFAULT 'member' NOT NULL,
	"token_hash" "bytea" NOT NULL,
	"invited_by" uuid,
	"expires_at" timestamp with time zone NOT NULL,
	"accepted_at" timestamp with time zone,
	"accepted_by" uuid,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organisation_invitations_email_format" CHECK (email = lower(email) and char_length(email) <= 320 and email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
	CONSTRAINT "organisation_invitations_token_hash_length" CHECK (octet_length("organisation_invitations"."token_hash") = 32)
);
--> statement-breakpoint
ALTER TABLE "organisation_invitations" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "organisation_member_usage_daily" (
	"organisation_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"date" timestamp with time zone NOT NULL,
	"bucket" smallint DEFAULT 0 NOT NULL,
	"request_count" integer DEFAULT 0 NOT NULL,
	"total_tokens" bigint DEFAULT 0 NOT NULL,
	"cost_usd" numeric DEFAULT '0' NOT NULL,
	"byok_cost_usd" numeric DEFAULT '0' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organisation_member_usage_daily_pkey" PRIMARY KEY("organisation_id","user_id","date","bucket")
);
--> statement-breakpoint
ALTER TABLE "organisation_member_usage_daily" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "organisation_members" (
	"organisation_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"role" "organisation_role" DEFAULT 'member' NOT NULL,
	"token_cap_override" bigint,
	"cost_cap_usd_override" numeric(14, 4),
	"invited_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organisation_members_pkey" PRIMARY KEY("organisation_id","user_id"),
	CONSTRAINT "organisation_members_caps_range" CHECK (token_cap_override between 0 and 1000000000000000
        and cost_cap_usd_override between 0 and 1000000000)
);
--> statement-breakpoint
ALTER TABLE "organisation_members" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "organisation_usage_daily" (
	"organisation_id" uuid NOT NULL,
	"date" timestamp with time zone NOT NULL,
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
	"cost_usd" numeric DEFAULT '0' NOT NULL,
	"byok_cost_usd" numeric DEFAULT '0' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organisation_usage_daily_pkey" PRIMARY KEY("organisation_id","date","provider","model","agent_mode","bucket")
);
--> statement-breakpoint
ALTER TABLE "organisation_usage_daily" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "organisations" (
	"id" uuid PRIMARY KEY DEFAULT private.uuid_v7() NOT NULL,
	"name" text NOT NULL,
	"tier_id" text DEFAULT 'team' NOT NULL,
	"monthly_token_limit_override" bigint,
	"monthly_cost_limit_usd_override" numeric(14, 4),
	"soft_limit_percent_override" smallint,
	"requests_per_minute_override" integer,
	"tokens_per_minute_override" bigint,
	"member_token_cap" bigint,
	"member_cost_cap_usd" numeric(14, 4),
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organisations_name_length" CHECK (char_length(btrim(name)) between 1 and 100),
	CONSTRAINT "organisations_limits_range" CHECK (monthly_token_limit_override between 0 and 1000000000000000
        and monthly_cost_limit_usd_override between 0 and 1000000000
        and soft_limit_percent_override between 1 and 100
        and requests_per_minute_override between 1 and 10000000
        and tokens_per_minute_override between 1 and 100000000000
        and member_token_cap between 0 and 1000000000000000
        and member_cost_cap_usd between 0 and 1000000000)
);
--> statement-breakpoint
ALTER TABLE "organisations" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "quota_reservations" ADD COLUMN "organisation_id" uuid;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD COLUMN "requests_per_minute" integer;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD COLUMN "tokens_per_minute" bigint;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD COLUMN "allowed_models" text[];--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD COLUMN "allow_local_models" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_usage_events" ADD COLUMN "organisation_id" uuid;--> statement-breakpoint
ALTER TABLE "quota_grants" ADD CONSTRAINT "quota_grants_user_id_profiles_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quota_grants" ADD CONSTRAINT "quota_grants_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tier_model_limits" ADD CONSTRAINT "tier_model_limits_tier_id_quota_tiers_id_fk" FOREIGN KEY ("tier_id") REFERENCES "public"."quota_tiers"("id") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "organisation_invitations" ADD CONSTRAINT "organisation_invitations_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organisation_invitations" ADD CONSTRAINT "organisation_invitations_invited_by_profiles_id_fk" FOREIGN KEY ("invited_by") REFERENCES "public"."profiles"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organisation_invitations" ADD CONSTRAINT "organisation_invitations_accepted_by_profiles_id_fk" FOREIGN KEY ("accepted_by") REFERENCES "public"."profiles"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organisation_member_usage_daily" ADD CONSTRAINT "organisation_member_usage_daily_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organisation_member_usage_daily" ADD CONSTRAINT "organisation_member_usage_daily_user_id_profiles_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organisation_members" ADD CONSTRAINT "organisation_members_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organisation_members" ADD CONSTRAINT "organisation_members_user_id_profiles_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organisation_members" ADD CONSTRAINT "organisation_members_invited_by_profiles_id_fk" FOREIGN KEY ("invited_by") REFERENCES "public"."profiles"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organisation_usage_daily" ADD CONSTRAINT "organisation_usage_daily_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organisations" ADD CONSTRAINT "organisations_tier_id_quota_tiers_id_fk" FOREIGN KEY ("tier_id") REFERENCES "public"."quota_tiers"("id") ON DELETE restrict ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "organisations" ADD CONSTRAINT "organisations_created_by_profiles_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."profiles"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "quota_grants_user_idx" ON "quota_grants" USING btree ("user_id","expires_at") WHERE "quota_grants"."user_id" is not null;--> statement-breakpoint
CREATE INDEX "quota_grants_organisation_idx" ON "quota_grants" USING btree ("organisation_id","expires_at") WHERE "quota_grants"."organisation_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "organisation_invitations_token_key" ON "organisation_invitations" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "organisation_invitations_organisation_idx" ON "organisation_invitations" USING btree ("organisation_id","created_at");--> statement-breakpoint
CREATE INDEX "organisation_invitations_invited_by_idx" ON "organisation_invitations" USING btree ("invited_by");--> statement-breakpoint
CREATE INDEX "organisation_invitations_accepted_by_idx" ON "organisation_invitations" USING btree ("accepted_by");--> statement-breakpoint
CREATE INDEX "organisation_member_usage_daily_user_idx" ON "organisation_member_usage_daily" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "organisation_members_user_idx" ON "organisation_members" USING btree ("user_id","organisation_id","role");--> statement-breakpoint
CREATE INDEX "organisation_members_invited_by_idx" ON "organisation_members" USING btree ("invited_by");--> statement-breakpoint
CREATE INDEX "organisations_tier_idx" ON "organisations" USING btree ("tier_id");--> statement-breakpoint
CREATE INDEX "organisations_created_by_idx" ON "organisations" USING btree ("created_by");--> statement-breakpoint
ALTER TABLE "quota_reservations" ADD CONSTRAINT "quota_reservations_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "quota_reservations_organisation_active_idx" ON "quota_reservations" USING btree ("organisation_id","expires_at") WHERE "quota_reservations"."status" = 'active' and "quota_reservations"."organisation_id" is not null;--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD CONSTRAINT "quota_tiers_rate_limits_range" CHECK (requests_per_minute between 1 and 10000000
        and tokens_per_minute between 1 and 100000000000);--> statement-breakpoint
ALTER TABLE "quota_tiers" ADD CONSTRAINT "quota_tiers_allowed_models_valid" CHECK (cardinality(allowed_models) <= 200
        and coalesce(array_ndims(allowed_models), 1) = 1
        and array_position(allowed_models, null) is null
        and (cardinality(allowed_models) = 0
          or (cardinality(allowed_models) = cardinality(string_to_array(array_to_string(allowed_models, ' '), ' '))
            and array_to_string(allowed_models, ' ') ~ '^[a-z0-9*][^[:space:]]{0,199}( [a-z0-9*][^[:space:]]{0,199})*$')));--> statement-breakpoint
CREATE VIEW "public"."organisation_member_usage_monthly" WITH (security_invoker = true) AS (select organisation_id, user_id,
      (date_trunc('month', date, 'UTC') at time zone 'UTC')::date as month,
      sum(request_count)::bigint as request_count,
      sum(total_tokens)::bigint as total_tokens,
      sum(cost_usd)::numeric as cost_usd,
      sum(byok_cost_usd)::numeric as byok_cost_usd
    from public.organisation_member_usage_daily
    group by organisation_id, user_id, date_trunc('month', date, 'UTC'));--> statement-breakpoint
CREATE VIEW "public"."organisation_usage_monthly" WITH (security_invoker = true) AS (select organisation_id,
      (date_trunc('month', date, 'UTC') at time zone 'UTC')::date as month,
      provider, model, agent_mode,
      sum(request_count)::bigint as request_count,
      sum(total_tokens)::bigint as total_tokens,
      sum(cost_usd)::numeric as cost_usd,
      sum(byok_cost_usd)::numeric as byok_cost_usd
    from public.organisation_usage_daily
    group by organisation_id, date_trunc('month', date, 'UTC'), provider, model, agent_mode);