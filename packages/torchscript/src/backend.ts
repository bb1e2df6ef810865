import { dirname, join } from 'node:path';
import {
  type Backend,
  type BackendOptions,
  datatypeOf,
  type LoadedModel,
  type ModelInstance,
  type Tensor,
  type TensorMetadata,
} from '@ferry/serving-api';
import { torchscriptDtypeOf } from './dtype.js';
import { torchscriptError } from './errors.js';
import { ScriptModule, type TorchTensor } from './script-module.js';
import { argumentOrder, declaredTensors, findOutput } from './signature.js';
import { setIntraOpThreads } from './threads.js';

/**
 * Serves TorchScript archives (REPO/<model>/<version>/model.pt) through the native libtorch addon:
 * a @ferry/serving-api Backend. TorchScript has no signature, so config.yaml's inputs, outputs
 * and max_batch_size (0: shapes given whole, no batch dimension) are required options. Of the
 * thread options, intraOpThreads is PROCESS-WIDE (at::set_num_threads: the last model loaded
 * wins) and interOpThreads is ignored (libtorch fixes its inter-op pool once per process, and
 * only torch.jit.fork uses it). Each instance is its own torch::jit::Module (as in Triton's
 * pytorch backend), so a model's instances never share state.
 */
export const torchscriptBackend: Backend = {
  name: 'torchscript',
  /** Triton's platform string for TorchScript models. */
  platform: 'pytorch_libtorch',
  fileNames: ['model.pt'] as readonly string[],

  async load(path: string, options: BackendOptions = {}): Promise<LoadedModel> {
    const configPath = options.configPath ?? join(dirname(dirname(path)), 'config.yaml');
    const batching = options.maxBatchSize !== 0;
    const inputs = declaredTensors('inputs', options.inputs, batching, configPath);
    const outputs = declaredTensors('outputs', options.outputs, batching, configPath);
    if (options.intraOpThreads !== undefined && options.intraOpThreads > 0)
      setIntraOpThreads(options.intraOpThreads);
    let spare: ScriptModule | undefined = await ScriptModule.load(path);
    try {
      const order = argumentOrder(inputs, spare.argumentNames, configPath);
      return {
        inputs,
        outputs,
        async createInstance() {
          const module = spare ?? (await ScriptModule.load(path));
          spare = undefined;
          return new TorchScriptInstance(module, inputs, outputs, order);
        },
        async close() {
          spare?.dispose();
          spare = undefined;
        },
      };
    } catch (error) {
      spare.dispose();
      throw error;
    }
  },
};

class TorchScriptInstance implements ModelInstance {
  constructor(
    private readonly module: ScriptModule,
    private readonly inputs: readonly TensorMetadata[],
    private readonly outputs: readonly TensorMetadata[],
    /** Config input index for each forward parameter position. */
    private readonly order: readonly number[],
  ) {}

  async run(feeds: ReadonlyMap<string, Tensor>, wanted: readonly string[]): Promise<Map<string, Tensor>> {
    const args: TorchTensor[] = this.order.map((index) => {
      const meta = this.inputs[index]!;
      const tensor = feeds.get(meta.name);
      const fail = (reason: string) =>
        torchscriptError('FERRY_TORCHSCRIPT_INPUT', { input: meta.name, reason });
      if (!tensor) throw fail('missing from the request');
      if (tensor.datatype !== meta.datatype)
        throw fail(`is ${tensor.datatype}, the model takes ${meta.datatype}`);
      const dtype = torchscriptDtypeOf(tensor.datatype);
      if (tensor.datatype === 'BYTES' || dtype === undefined)
        throw fail(`${tensor.datatype} has no libtorch tensor type`);
      return {
        name: meta.name,
        dtype,
        shape: tensor.shape,
        data: tensor.bytes,
      };
    });
    const produced = await this.module.forward(args);
    const result = new Map<string, Tensor>();
    for (const name of wanted) {
      const position = this.outputs.findIndex((o) => o.name === name);
      const fail = (reason: string) =>
        torchscriptError('FERRY_TORCHSCRIPT_OUTPUT', { path: this.module.path, output: name, reason });
      if (position < 0)
        throw fail(`is not declared in outputs: (${this.outputs.map((o) => o.name).join(', ')})`);
      const meta = this.outputs[position]!;
      const out = findOutput(produced, name, position);
      if (!out)
        throw fail(
          `forward returned no such output (it returned ${produced.map((o) => o.name).join(', ') || 'none'})`,
        );
      const datatype = datatypeOf(out.dtype);
      if (datatype === undefined || datatype !== meta.datatype)
        throw fail(`forward returned ${datatype}, config declares ${meta.datatype}`);
      const fits =
        out.shape.length === meta.shape.length && meta.shape.every((d, k) => d === -1 || d === out.shape[k]);
      if (!fits)
        throw fail(
          `forward returned shape [${out.shape.join(', ')}], config declares [${meta.shape.join(', ')}]`,
        );
      result.set(name, { datatype, shape: out.shape, bytes: out.data });
    }
    return result;
  }

  async close(): Promise<void> {
    this.module.dispose();
  }
}
