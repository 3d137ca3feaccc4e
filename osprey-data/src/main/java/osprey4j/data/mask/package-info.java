/**
 * Binary masks: {@link osprey4j.data.mask.Mask} (immutable, bit-packed, row-major) and
 * {@link osprey4j.data.mask.MaskPng} (PNG reading and writing, including instance label maps).
 * COCO's formats for masks are in {@code osprey4j.data.coco}.
 */
package osprey4j.data.mask;
