import { mkdir, rename } from 'node:fs/promises';
import * as path from 'node:path';
import { readCatalog, type Catalog } from '@iib-ts/catalog';
import type { BuildContext } from '../workspace/build-context';
import { extractArch } from './configs-files';
import type { PreparedBuild } from './prepare';

/** The from index's catalog, extracted into `<workDir>/context/configs` and parsed. */
export interface IndexCatalog {
  contextDir: string;
  configsDir: string;
  catalog: Catalog;
}

/**
 * Extracts the from index's catalog into `<workDir>/context/configs`. The
 * image's layout stays in `<workDir>/image-<arch>`, where an incremental
 * build reads its layers instead of downloading them again.
 */
export async function extractIndexConfigs(
  ctx: BuildContext,
  prepared: PreparedBuild,
): Promise<{ contextDir: string; configsDir: string }> {
  const contextDir = path.join(ctx.workDir, 'context');
  const configsDir = path.join(contextDir, 'configs');
  const arch = extractArch(prepared.fromIndex, prepared.arches);
  const root = path.join(ctx.workDir, 'from-index');
  await ctx.images.extract(prepared.fromIndex.resolved, arch, prepared.configsPath, ctx.workDir, root);
  await mkdir(contextDir, { recursive: true });
  const extracted = path.join(root, prepared.configsPath.replace(/^\/+/, ''));
  await rename(extracted, configsDir).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await mkdir(configsDir, { recursive: true });
  });
  return { contextDir, configsDir };
}

export async function loadIndexCatalog(ctx: BuildContext, prepared: PreparedBuild): Promise<IndexCatalog> {
  const { contextDir, configsDir } = await extractIndexConfigs(ctx, prepared);
  return { contextDir, configsDir, catalog: await readCatalog(configsDir) };
}
