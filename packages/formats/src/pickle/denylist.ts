/**
 * Names known to run code, spawn processes, load more pickles or reach the network. This list
 * only sets severity: anything not on the allowlist is a finding anyway, so a name missing here
 * (the usual denylist bypass: pip.main, asyncio transports, CVE-2025-1716/1944/10155...) is
 * still reported, just as `high` instead of `critical`.
 */

/** Every name in these modules (and their submodules) is critical. */
const DANGEROUS_MODULES = [
  'os',
  'posix',
  'nt',
  'subprocess',
  'sys',
  'pty',
  'socket',
  'runpy',
  'importlib',
  'imp',
  'pip',
  'asyncio',
  'marshal',
  'ctypes',
  'shutil',
  'multiprocessing',
  'concurrent',
  'threading',
  '_thread',
  'signal',
  'code',
  'codeop',
  'commands',
  'popen2',
  'webbrowser',
  'pickle',
  '_pickle',
  'cPickle',
  'dill',
  'cloudpickle',
  'shelve',
  'zipimport',
  'pkgutil',
  'site',
  'bdb',
  'pdb',
  'trace',
  'timeit',
  'profile',
  'cProfile',
  'doctest',
  'distutils',
  'setuptools',
  'ensurepip',
  'venv',
  'idlelib',
  'tempfile',
  'http',
  'httplib',
  'urllib',
  'urllib2',
  'urllib3',
  'requests',
  'aiohttp',
  'ftplib',
  'smtplib',
  'telnetlib',
  'ssl',
  'xmlrpc',
  'socketserver',
  'torch.hub',
  'torch.package',
  'torch.utils.cpp_extension',
  'torch.distributed',
  'torch.fx',
  'torch.jit',
  'torch.ops',
  'torch.classes',
  'torch._dynamo',
  'torch._inductor',
  'numpy.f2py',
  'numpy.distutils',
  'numpy.testing',
  'numpy.ctypeslib',
  'joblib.parallel',
  'IPython',
];

/** Single names that are critical in otherwise ordinary modules. */
const DANGEROUS_NAMES = new Set([
  'builtins.eval',
  'builtins.exec',
  'builtins.execfile',
  'builtins.compile',
  'builtins.getattr',
  'builtins.setattr',
  'builtins.__import__',
  'builtins.delattr',
  'builtins.open',
  'builtins.file',
  'builtins.input',
  'builtins.breakpoint',
  'builtins.globals',
  'builtins.locals',
  'builtins.vars',
  'builtins.reload',
  'builtins.apply',
  'builtins.help',
  'builtins.memoryview',
  'builtins.type',
  'builtins.super',
  'builtins.classmethod',
  'builtins.staticmethod',
  'builtins.property',
  'builtins.map',
  'builtins.filter',
  'types.CodeType',
  'types.FunctionType',
  'types.MethodType',
  'types.ModuleType',
  'types.LambdaType',
  'types.new_class',
  'operator.attrgetter',
  'operator.methodcaller',
  'operator.itemgetter',
  'operator.call',
  'functools.partial',
  'functools.reduce',
  'uuid._get_command_stdout',
  'platform.popen',
  'platform._syscmd_file',
  'platform._syscmd_ver',
  'logging.config.listen',
  'logging.config.fileConfig',
  'torch.load',
  'torch.serialization.load',
  'torch.serialization._load',
  'torch.storage._load_from_bytes',
  'torch._C._import_ir_module',
  'torch._C._jit_pass_inline',
  'torch._weights_only_unpickler._get_allowed_globals',
  'numpy.load',
  'numpy.lib.npyio.load',
  'numpy.loadtxt',
  'numpy.fromfile',
  'numpy.core.multiarray.fromfile',
  'joblib.load',
  'joblib.numpy_pickle.load',
  'pandas.read_pickle',
  'pandas.io.pickle.read_pickle',
]);

function inModule(module: string, prefix: string): boolean {
  return module === prefix || module.startsWith(`${prefix}.`);
}

/** Dotted names deeper than this are not something any real pickle names (CWE-400). */
const MAX_NAME_SEGMENTS = 64;

/** Why a name is critical, or undefined. */
export function dangerReason(module: string, name: string): string | undefined {
  const qualified = `${module}.${name}`;
  const parts = qualified.split('.');
  if (parts.length > MAX_NAME_SEGMENTS) return `a name of ${parts.length} dotted parts walks attributes`;
  // Every prefix at a dot: protocol 4 resolves `builtins.getattr.__call__` attribute by attribute.
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('.');
    if (DANGEROUS_NAMES.has(prefix)) return 'runs code, reads files or loads more pickles';
  }
  for (const prefix of DANGEROUS_MODULES) {
    if (inModule(qualified, prefix)) return `module ${prefix} runs commands, code or network I/O`;
  }
  // `torch._utils` + `os.system`: a dotted name reaches a module another module imported.
  const nameParts = name.split('.');
  for (let i = 0; i + 1 < nameParts.length; i++) {
    const reached = nameParts.slice(i).join('.');
    for (const prefix of DANGEROUS_MODULES) {
      if (inModule(reached, prefix)) return `reaches module ${prefix} through attributes`;
    }
    for (let j = i + 2; j <= nameParts.length; j++) {
      const candidate = nameParts.slice(i, j).join('.');
      if (DANGEROUS_NAMES.has(candidate)) return `reaches ${candidate} through attributes`;
    }
  }
  // A dunder hop (__globals__, __builtins__, __subclasses__, __init__) reaches anything.
  if (name.split('.').some((part) => part.startsWith('__') && part.endsWith('__') && part.length > 4)) {
    return 'walks a dunder attribute to reach other objects';
  }
  return undefined;
}
