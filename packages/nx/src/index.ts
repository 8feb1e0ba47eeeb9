export { default as elfExecutor } from './executors/elf/executor';
export { default as checksumExecutor } from './executors/checksum/executor';
export { default as reproduceExecutor } from './executors/reproduce/executor';
export { createDependencies, createNodes, createNodesV2, type ReprokitPluginOptions } from './plugin';
