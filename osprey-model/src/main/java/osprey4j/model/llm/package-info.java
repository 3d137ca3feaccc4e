/**
 * The LLaMA / Vicuna decoder: {@link osprey4j.model.llm.LlamaConfig} from {@code config.json},
 * {@link osprey4j.model.llm.Llama} (weights mapped from the checkpoint in their stored dtype, inputs given as
 * embeddings) and its {@link osprey4j.model.llm.KvCache}. The classes mirror Hugging Face's modules:
 * {@code LlamaDecoderLayer}, {@code LlamaAttention}, {@code LlamaMLP}, each holding its weights as fields
 * named after the state-dict keys.
 */
package osprey4j.model.llm;
