/**
 * The Osprey model: image processor, ConvNeXt vision tower, mask-aware extractor, projector, LLaMA decoder,
 * tokenizer, chat template and sampler, and the {@code Osprey} facade that ties them together.
 */
package osprey4j.model;
