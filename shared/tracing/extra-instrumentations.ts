import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { TracingWarn } from './tracing-log';

type InstrumentationClass = new () => Instrumentation;

/**
 * Instantiate the Instrumentation classes exported by each named package
 * (`pkg` takes every exported Instrumentation class, `pkg#Name` only that
 * export). Packages resolve from the working directory first, then from our
 * own node_modules. A package that cannot be loaded is reported and skipped:
 * an optional tracing plugin must not stop a service.
 */
export function loadExtraInstrumentations(specs: readonly string[], warn: TracingWarn): Instrumentation[] {
  const result: Instrumentation[] = [];
  for (const spec of specs) {
    const hash = spec.lastIndexOf('#');
    const pkg = hash > 0 ? spec.slice(0, hash) : spec;
    const exportName = hash > 0 ? spec.slice(hash + 1) : undefined;
    let moduleExports: unknown;
    try {
      const resolved = require.resolve(pkg, { paths: [process.cwd(), __dirname] });
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the package name is configuration, known only at run time
      moduleExports = require(resolved);
    } catch (err) {
      warn('extra instrumentation package not loaded', { package: pkg, err: (err as Error).message });
      continue;
    }
    const classes = instrumentationClasses(moduleExports, exportName);
    if (classes.length === 0) {
      warn('extra instrumentation package exports no Instrumentation class', {
        package: pkg,
        export: exportName,
      });
      continue;
    }
    for (const Cls of classes) {
      try {
        result.push(new Cls());
      } catch (err) {
        warn('extra instrumentation failed to construct', { package: pkg, err: (err as Error).message });
      }
    }
  }
  return result;
}

function instrumentationClasses(
  moduleExports: unknown,
  exportName: string | undefined,
): InstrumentationClass[] {
  const exported = moduleExports as Record<string, unknown> | undefined;
  const candidates =
    exportName !== undefined ? [exported?.[exportName]] : [moduleExports, ...Object.values(exported ?? {})];
  // A class exported both by name and as default is instantiated once.
  return [...new Set(candidates.filter(isInstrumentationClass))];
}

function isInstrumentationClass(value: unknown): value is InstrumentationClass {
  if (typeof value !== 'function') return false;
  const proto = (value as { prototype?: Record<string, unknown> }).prototype;
  return (
    !!proto &&
    typeof proto.enable === 'function' &&
    typeof proto.disable === 'function' &&
    typeof proto.setTracerProvider === 'function'
  );
}
