/** What works instead, for a fused graph (the generic "try a GPT-2- or Llama-style export" would be wrong). */
export const UNFUSED_HINT =
  'An export of the same model without fused attention ' +
  "(plain MatMul/Softmax layers, e.g. Optimum's default export) can be read.";
