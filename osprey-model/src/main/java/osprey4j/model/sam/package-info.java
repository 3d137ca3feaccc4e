/**
 * The Segment Anything Model (SAM, facebookresearch/segment-anything) in Java: {@link osprey4j.model.sam.Sam} (the
 * predictor: encode an image once, decode any number of click/box/mask prompts), its three parts
 * {@link osprey4j.model.sam.SamImageEncoder}, {@link osprey4j.model.sam.SamPromptEncoder} and
 * {@link osprey4j.model.sam.SamMaskDecoder} (fields named after the official state-dict keys), and
 * {@link osprey4j.model.sam.AutomaticMaskGenerator} ("segment everything"). Loads the official checkpoints and
 * safetensors copies; checked against the official code.
 */
package osprey4j.model.sam;
