/**
 * Training and evaluation samples built from dataset records with the reference's prompt conventions
 * ({@link osprey4j.data.samples.TrainingSamples}, {@link osprey4j.data.samples.EvalSamples}), deterministic for a
 * seed, and their JSON-lines form ({@link osprey4j.data.samples.SampleJsonl}).
 */
package osprey4j.data.samples;
