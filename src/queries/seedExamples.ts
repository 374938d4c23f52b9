// The three example queries of the original design, word for word. They must
// keep running unchanged against this schema; tests and the demo run them.

/** A user's AI usage this month, per provider and model. `$1`: the user's id. */
export const monthlyUsageQuery = `SELECT 
    provider,
    model,
    SUM(total_tokens) as total_tokens,
    SUM(cost_usd) as total_cost
FROM ai_usage_daily
WHERE user_id = $1
  AND date >= date_trunc('month', CURRENT_DATE)
GROUP BY provider, model;`;

/** Sessions still open, with their owner's email and message count. */
export const activeSessionsQuery = `SELECT 
    s.*,
    u.email,
    COUNT(m.id) as message_count
FROM agent_sessions s
JOIN users u ON s.user_id = u.id
LEFT JOIN agent_messages m ON s.id = m.session_id
WHERE s.ended_at IS NULL
GROUP BY s.id, u.email;`;

/** A user's monthly token limit, use and what remains. `$1`: the user's id. */
export const checkQuotaQuery = `SELECT 
    u.email,
    q.monthly_token_limit,
    COALESCE(SUM(d.total_tokens), 0) as tokens_used,
    q.monthly_token_limit - COALESCE(SUM(d.total_tokens), 0) as tokens_remaining
FROM users u
JOIN user_quotas q ON u.id = q.user_id
LEFT JOIN ai_usage_daily d ON u.id = d.user_id 
    AND d.date >= date_trunc('month', CURRENT_DATE)
WHERE u.id = $1
GROUP BY u.id, u.email, q.monthly_token_limit;`;
