/**
 * Osprey's vision side: the ConvNeXt tower ({@link osprey4j.model.vision.ConvNextTower}) that turns a preprocessed
 * image into the stem and res2..res5 feature maps, the projector ({@link osprey4j.model.vision.Projector}) that
 * maps res4 to image tokens, and the mask extractor ({@link osprey4j.model.vision.MaskExtractor}) that turns each
 * region mask into a mask token and a position token. Weights are read from checkpoints in the official layout.
 */
package osprey4j.model.vision;
