/**
 * Image input: decoding files to RGB exactly as Pillow's {@code Image.open(f).convert('RGB')} does
 * ({@link osprey4j.model.image.RgbImage}) and the reference's CLIP preprocessing to the vision tower's input
 * ({@link osprey4j.model.image.ImageProcessor}).
 */
package osprey4j.model.image;
