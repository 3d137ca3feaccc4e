/**
 * Training a SentencePiece BPE tokenizer from scratch ({@link osprey4j.train.tokenizer.SentencePieceBpeTrainer})
 * and writing it as a {@code tokenizer.model} ({@link osprey4j.train.tokenizer.ModelProtoWriter}) that our own
 * reader ({@code osprey4j.model.tokenizer.Tokenizer}) and Debian's {@code sentencepiece} encode identically.
 */
package osprey4j.train.tokenizer;
