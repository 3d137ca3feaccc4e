/**
 * The instruction-data engine: turns COCO/LVIS/PACO-style annotations (or the synthetic world's) into the five
 * Osprey-724K subsets, in the official JSON layout that {@link osprey4j.data.datasets.Osprey724k} reads.
 *
 * <p>Two ways to write the text. Templates (the default, offline): facts measured from the annotations
 * ({@link osprey4j.data.instruct.SceneObject}: category, colour, parts, position, size, nearest neighbour) put into
 * varied sentences ({@link osprey4j.data.instruct.TemplateText}). An LLM ({@link osprey4j.data.instruct.LlmGenerator}):
 * the paper's kind of prompt (captions plus normalised region boxes, a system message and one worked example) sent
 * to an OpenAI-compatible chat-completions endpoint, with retries, reply validation, cost accounting and an
 * append-only work log so a killed run resumes where it stopped. Negative categories for the yes/no subset are
 * mined by sentence-embedding similarity ({@link osprey4j.data.instruct.NegativeMiner}).
 */
package osprey4j.data.instruct;
