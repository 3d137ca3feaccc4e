/**
 * Checkpoint I/O: reading safetensors files, PyTorch {@code torch.save} zip archives and sharded Hugging Face
 * directories, and writing safetensors.
 *
 * <p>Entry point: {@link osprey4j.core.io.Checkpoints#open(java.nio.file.Path)} returns a
 * {@link osprey4j.core.io.Checkpoint}; tensors come back as {@link osprey4j.core.tensor.Tensor}s viewing the
 * memory-mapped file (zero-copy) until the checkpoint is closed. {@link osprey4j.core.io.SafetensorsWriter}
 * writes files atomically.
 *
 * <p>Ground rules every reader here follows:
 * <ul>
 *   <li>nothing from a file is executed: torch pickles run in {@code TorchUnpickler}, a pickle VM that builds
 *       plain values and resolves only allow-listed globals (tensor-rebuilding functions, storage classes,
 *       {@code collections.OrderedDict}, {@code torch.Size});</li>
 *   <li>no declared size is trusted: header lengths, zip offsets and sizes, storage sizes, tensor views and
 *       shard file names are checked against the file (or directory) before use, with overflow-safe
 *       arithmetic, and anything inconsistent is a {@link osprey4j.core.io.CheckpointException} naming the
 *       file and the problem;</li>
 *   <li>the only exception a reader throws for a bad file is {@code CheckpointException}; the tests feed
 *       damaged files and random pickle programs to check that.</li>
 * </ul>
 */
package osprey4j.core.io;
