import { FinishReason, GenerateContentResponse, MediaModality, TrafficType, type GenerateContentResponseUsageMetadata } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { ProviderUsageError, type ProviderUsage } from '../../src/adapters/contract.js';
import { usageFromGemini } from '../../src/adapters/gemini.js';

// Responses shaped as the SDK declares them. GenerateContentResponse is a
// class with getters, so plain payloads are checked against the fields the
// adapter reads; one test passes a real instance of the class.
type Payload = Pick<GenerateContentResponse, 'candidates' | 'modelVersion' | 'usageMetadata'>;

const answer = { role: 'model', parts: [{ text: 'Hello.' }] };

const plain = {
  candidates: [{ content: answer, finishReason: FinishReason.STOP, index: 0 }],
  modelVersion: 'gemini-2.5-flash',
  usageMetadata: { promptTokenCount: 120, candidatesTokenCount: 40, totalTokenCount: 160 },
} satisfies Payload;

const expected = (fields: Partial<ProviderUsage>): ProviderUsage => ({
  provider: 'google',
  model: 'gemini-2.5-flash',
  serviceTier: 'standard',
  inputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  cacheWrite1hTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  webSearchRequests: 0,
  toolRequests: 0,
  ...fields,
});

/** The plain response with usage fields replaced (values may break the declared types on purpose). */
const withUsage = (fields: Record<string, unknown>): Payload => ({
  ...plain,
  usageMetadata: { ...plain.usageMetadata, ...fields } as GenerateContentResponseUsageMetadata,
});

function refusal(run: () => unknown): ProviderUsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderUsageError);
    return error as ProviderUsageError;
  }
  throw new Error('expected a ProviderUsageError');
}

describe('usageFromGemini', () => {
  it('reads a plain response', () => {
    expect(usageFromGemini(plain)).toEqual(expected({ inputTokens: 120, outputTokens: 40 }));
  });

  it('reads a real GenerateContentResponse, getters and all', () => {
    const response = Object.assign(new GenerateContentResponse(), { ...plain, modelVersion: 'models/Gemini-2.5-Flash' });
    expect(response.text).toBe('Hello.');
    expect(usageFromGemini(response)).toEqual(expected({ inputTokens: 120, outputTokens: 40 }));
  });

  it('takes cached content out of the prompt, adds the tool-use prompt and keeps thoughts apart', () => {
    const response = {
      candidates: [{ content: answer, finishReason: FinishReason.STOP, index: 0 }],
      modelVersion: 'gemini-2.5-pro',
      usageMetadata: {
        promptTokenCount: 10_000,
        cachedContentTokenCount: 8000,
        toolUsePromptTokenCount: 300,
        candidatesTokenCount: 500,
        thoughtsTokenCount: 1200,
        totalTokenCount: 12_000,
        promptTokensDetails: [{ modality: MediaModality.TEXT, tokenCount: 10_000 }],
      },
    } satisfies Payload;
    expect(usageFromGemini(response)).toEqual(
      expected({ model: 'gemini-2.5-pro', inputTokens: 2300, cachedInputTokens: 8000, outputTokens: 500, reasoningTokens: 1200 }),
    );
  });

  it('counts the distinct grounding queries of all candidates as web searches', () => {
    const response = {
      candidates: [
        {
          content: answer,
          finishReason: FinishReason.STOP,
          index: 0,
          groundingMetadata: {
            webSearchQueries: ['weather paris', 'paris forecast', 'weather paris'],
            groundingChunks: [{ web: { uri: 'https://example.com', title: 'example.com' } }],
            searchEntryPoint: { renderedContent: '<div></div>' },
          },
        },
        { content: answer, finishReason: FinishReason.STOP, index: 1, groundingMetadata: { webSearchQueries: ['paris forecast', 'paris rain'] } },
      ],
      modelVersion: 'gemini-3-pro-preview',
      usageMetadata: { promptTokenCount: 80, toolUsePromptTokenCount: 900, candidatesTokenCount: 200, thoughtsTokenCount: 50, totalTokenCount: 1230 },
    } satisfies Payload;
    expect(usageFromGemini(response)).toEqual(
      expected({ model: 'gemini-3-pro-preview', inputTokens: 980, outputTokens: 200, reasoningTokens: 50, webSearchRequests: 3 }),
    );
  });

  it('counts no web search for empty query lists', () => {
    const response = {
      ...plain,
      candidates: [{ content: answer, finishReason: FinishReason.STOP, groundingMetadata: { webSearchQueries: [] } }],
    } satisfies Payload;
    expect(usageFromGemini(response).webSearchRequests).toBe(0);
  });

  it('reads the final chunk of a stream, and a usage-only last chunk', () => {
    const finalChunk = {
      candidates: [{ content: { role: 'model', parts: [{ text: ' world.' }] }, finishReason: FinishReason.STOP, index: 0 }],
      modelVersion: 'gemini-2.5-flash',
      usageMetadata: { promptTokenCount: 64, candidatesTokenCount: 210, thoughtsTokenCount: 90, totalTokenCount: 364 },
    } satisfies Payload;
    expect(usageFromGemini(finalChunk)).toEqual(expected({ inputTokens: 64, outputTokens: 210, reasoningTokens: 90 }));
    const usageOnly = { modelVersion: 'gemini-2.5-flash', usageMetadata: finalChunk.usageMetadata } satisfies Payload;
    expect(usageFromGemini(usageOnly)).toEqual(expected({ inputTokens: 64, outputTokens: 210, reasoningTokens: 90 }));
  });

  it('takes the model and tier from options first', () => {
    expect(usageFromGemini(plain, { model: 'models/gemini-2.5-flash-lite', serviceTier: 'batch' })).toEqual(
      expected({ model: 'gemini-2.5-flash-lite', serviceTier: 'batch', inputTokens: 120, outputTokens: 40 }),
    );
  });

  it("reads Vertex AI's flex and priority traffic types as tiers, others as standard", () => {
    expect(usageFromGemini(withUsage({ trafficType: TrafficType.ON_DEMAND_FLEX })).serviceTier).toBe('flex');
    expect(usageFromGemini(withUsage({ trafficType: TrafficType.ON_DEMAND_PRIORITY })).serviceTier).toBe('priority');
    expect(usageFromGemini(withUsage({ trafficType: TrafficType.ON_DEMAND })).serviceTier).toBe('standard');
    expect(usageFromGemini(withUsage({ trafficType: TrafficType.ON_DEMAND_FLEX }), { serviceTier: 'batch' }).serviceTier).toBe('batch');
  });

  it('reads missing optional counts and a missing total as 0 and unchecked', () => {
    const promptOnly = { modelVersion: 'gemini-2.5-flash', usageMetadata: { promptTokenCount: 7 } } satisfies Payload;
    expect(usageFromGemini(promptOnly)).toEqual(expected({ inputTokens: 7 }));
  });
});

describe('usageFromGemini: refusals', () => {
  it('refuses a response without usageMetadata or without promptTokenCount', () => {
    const bare = { candidates: plain.candidates, modelVersion: 'gemini-2.5-flash' } satisfies Payload;
    expect(refusal(() => usageFromGemini(bare)).field).toBe('usageMetadata.promptTokenCount');
    const noPrompt = { ...plain, usageMetadata: { candidatesTokenCount: 40 } } satisfies Payload;
    expect(refusal(() => usageFromGemini(noPrompt)).field).toBe('usageMetadata.promptTokenCount');
  });

  it('refuses a totalTokenCount that disagrees with its parts', () => {
    const error = refusal(() => usageFromGemini(withUsage({ thoughtsTokenCount: 5 })));
    expect(error.field).toBe('usageMetadata.totalTokenCount');
    expect(error.rule).toBe('is 160, not the sum of its parts (usageMetadata.promptTokenCount + usageMetadata.toolUsePromptTokenCount + usageMetadata.candidatesTokenCount + usageMetadata.thoughtsTokenCount = 165) (google usage)');
  });

  it('refuses cached content larger than the prompt it is part of', () => {
    const error = refusal(() => usageFromGemini(withUsage({ cachedContentTokenCount: 121 })));
    expect(error.field).toBe('usageMetadata.cachedContentTokenCount');
    expect(error.rule).toBe('is larger than usageMetadata.promptTokenCount (121 > 120) (google usage)');
  });

  it('refuses a chunk that is not the final one', () => {
    const partial = {
      candidates: [{ content: answer, index: 0 }],
      modelVersion: 'gemini-2.5-flash',
      usageMetadata: { promptTokenCount: 120, totalTokenCount: 120 },
    } satisfies Payload;
    expect(refusal(() => usageFromGemini(partial)).field).toBe('candidates[0].finishReason');
  });

  it('refuses a response without any model', () => {
    const anonymous = { candidates: plain.candidates, usageMetadata: plain.usageMetadata } satisfies Payload;
    expect(refusal(() => usageFromGemini(anonymous)).field).toBe('modelVersion');
    expect(usageFromGemini(anonymous, { model: 'gemini-2.5-flash' }).model).toBe('gemini-2.5-flash');
  });

  it.each([
    ['negative', -1, 'is negative (-1)'],
    ['NaN', Number.NaN, 'is not a finite number (NaN)'],
    ['not a whole number', 3.25, 'is not a whole number (3.25)'],
    ['a string', '40', 'is not a number ("40")'],
  ])('refuses a count that is %s', (_, value, rule) => {
    const error = refusal(() => usageFromGemini(withUsage({ candidatesTokenCount: value })));
    expect(error.field).toBe('usageMetadata.candidatesTokenCount');
    expect(error.rule).toBe(`${rule} (google usage)`);
  });

  it.each(['promptTokenCount', 'cachedContentTokenCount', 'toolUsePromptTokenCount', 'thoughtsTokenCount', 'totalTokenCount'])(
    'names usageMetadata.%s when it is bad',
    (name) => {
      expect(refusal(() => usageFromGemini(withUsage({ [name]: -1 }))).field).toBe(`usageMetadata.${name}`);
    },
  );
});
