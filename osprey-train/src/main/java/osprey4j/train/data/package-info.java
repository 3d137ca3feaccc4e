/**
 * Training samples exactly as the reference preprocesses them: {@link osprey4j.train.data.Conversation} (the
 * "two separators" prompt of {@code conversation.py}), {@link osprey4j.train.data.Preprocessor}
 * ({@code preprocess_multimodal} + {@code preprocess_v1}: ids with {@code -200} for the image, labels with
 * {@code -100} where the reference masks them), {@link osprey4j.train.data.ModelLabels} (the label expansion the
 * model's forward does around the image features and {@code <mask><pos>}), {@link osprey4j.train.data.Collator}
 * ({@code DataCollatorForDetDataset}) and {@link osprey4j.train.data.TrainingDataReader} (Osprey-724K files and
 * sample JSON lines to examples with decoded masks, counting what it skips).
 */
package osprey4j.train.data;
