/**
 * A model name as prices and totals know it: without surrounding spaces, in
 * lower case, without the provider's own prefix ('openai/gpt-4o' from OpenAI
 * is 'gpt-4o'; from OpenRouter, 'openai/gpt-4o' names another provider's
 * model and stays) and, for Google, without the API's 'models/' path. So
 * that 'GPT-4o ' is priced as 'gpt-4o' and lands in the same daily total.
 * record_usage applies the same rule in SQL, for callers that come straight
 * to the database.
 *
 * Dated snapshots ('gpt-4o-2024-08-06') keep their name: the price catalog
 * lists, per model, the snapshots its provider bills at the model's price,
 * and syncPrices writes those as price rows of their own.
 */
export function normalizeModel(provider: string, model: string): string {
  let name = model.trim().toLowerCase();
  const prefix = `${provider.toLowerCase()}/`;
  if (name.startsWith(prefix)) name = name.slice(prefix.length);
  else if (provider === 'google' && name.startsWith('models/')) name = name.slice('models/'.length);
  return name;
}
