/**
 * Instruction tuning of Osprey: backward passes beside each trainable layer's forward, AdamW with the
 * reference's schedule, the reference's training-data preprocessing, and the tokenizer trainer.
 */
package osprey4j.train;
