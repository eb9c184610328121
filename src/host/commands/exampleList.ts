/**
 * The Get Started walkthrough's examples: each runs Explain on a short text with one of the test
 * models that need no download (they sit in attentionLens.localModelsFolder) and opens the tab
 * that shows the idea. package.json's walkthrough steps name them; test/unit/walkthrough.test.ts
 * checks that every step names an example here, and every example a model and a tab that exist.
 */
export const EXAMPLES = {
  tokens: {
    model: 'bert-mini-shakespeare',
    text: "The animal didn't cross the street because it was too tired.",
    tab: 'embeddings',
  },
  softmax: {
    model: 'bert-mini-shakespeare',
    text: "The animal didn't cross the street because it was too tired.",
    tab: 'scratch',
  },
  causal: { model: 'gpt2-mini-shakespeare', text: 'To be, or not to be, that is the question.', tab: 'attention' },
  heads: { model: 'gpt2-mini-shakespeare', text: 'To be, or not to be, that is the question.', tab: 'heads' },
  cross: { model: 'marian-mini-dates', text: 'Tuesday, December 1, 2026', tab: 'translation' },
  predict: { model: 'gpt2-mini-shakespeare', text: 'To be, or not to be, that is the', tab: 'predictions' },
} as const;

export type ExampleId = keyof typeof EXAMPLES;
