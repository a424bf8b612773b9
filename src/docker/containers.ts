/**
 * The Docker operations migrate needs on a container, its checkpoints and the daemon, each one
 * Engine API request (engine.ts). Those that clean up ignore "no such container".
 */
import type { Transport } from '../../transports/transport.js';
import type { Inspect } from './container.js';
import { engineCall, engineFind, engineStatus } from './engine.js';

/** The container as inspected, or undefined when the host has none of that name or ID. */
export const findContainer = (t: Transport, ref: string): Promise<Inspect | undefined> =>
  engineFind(t, `inspect container ${ref}`, (d) => d.getContainer(ref).inspect() as unknown as Promise<Inspect>);

export async function isRunning(t: Transport, ref: string): Promise<boolean> {
  return (await findContainer(t, ref))?.State.Running === true;
}

/** The PID of the container's init on its host (0 when it does not run). */
export async function initPid(t: Transport, ref: string): Promise<number> {
  return (await findContainer(t, ref))?.State.Pid ?? 0;
}

/** `docker rm -f` (with `volumes`: and its anonymous volumes, -v); gone already is fine. */
export async function removeContainer(t: Transport, ref: string, o: { volumes?: boolean } = {}): Promise<void> {
  await engineFind(t, `remove container ${ref}`, (d) => d.getContainer(ref).remove({ force: true, v: o.volumes ?? false }));
}

/** `docker kill`: SIGKILL reaches stopped processes too; a container that is not running is fine. */
export async function killContainer(t: Transport, ref: string): Promise<void> {
  try {
    await engineFind(t, `kill container ${ref}`, (d) => d.getContainer(ref).kill());
  } catch (e) {
    if (engineStatus((e as { cause?: unknown }).cause) !== 409) throw e; // 409: not running
  }
}

/** dockerode has checkpoint calls its types do not list. */
interface Checkpoints { deleteCheckpoint(name: string): Promise<unknown> }

/** `docker checkpoint rm`: Docker's record (and directory) of a checkpoint. Whether there was one to delete. */
export async function deleteCheckpoint(t: Transport, ref: string, name: string): Promise<boolean> {
  const deleted = await engineFind(t, `delete checkpoint ${name} of container ${ref}`, async (d) => {
    await (d.getContainer(ref) as unknown as Checkpoints).deleteCheckpoint(name);
    return true;
  }).catch(() => false);
  return deleted === true;
}

/** The daemon's data root (DockerRootDir) and storage driver. */
export async function daemonStorage(t: Transport): Promise<{ root: string; driver: string }> {
  const info = await engineCall(t, 'describe itself (GET /info)', (d) => d.info() as Promise<{ DockerRootDir: string; Driver: string }>);
  return { root: info.DockerRootDir, driver: info.Driver };
}

/** IDs of the running containers that mount a volume (`docker ps --filter volume=NAME`). */
export async function containersUsingVolume(t: Transport, volume: string): Promise<string[]> {
  const list = await engineCall(t, `list containers using volume ${volume}`, (d) => d.listContainers({ filters: { volume: [volume] } }));
  return list.map((c) => c.Id);
}

/** Containers (any state) with a label, e.g. migrate's twins of one source container. */
export async function containersLabelled(t: Transport, label: string): Promise<Array<{ id: string; state: string }>> {
  const list = await engineCall(t, `list containers labelled ${label}`, (d) => d.listContainers({ all: true, filters: { label: [label] } }));
  return list.map((c) => ({ id: c.Id, state: c.State }));
}
