import type { StageInstruction } from '../dockerfile/dockerfile';
import type { BuildSession } from './session';
import type { StageState } from './stage-state';

/** Where an instruction is and what its stage is for. */
export interface Step {
  /** `Dockerfile:LINE`, the prefix of every message about the instruction. */
  at: string;
  fail: (message: string) => never;
  /** The stage's layers end up in the image (the final stage and those it is built FROM). */
  needsLayers: boolean;
}

/** What an instruction left: a layer, or only a change to the image config (an empty history entry). */
export type Outcome = 'layer' | 'config';

export type Handler<I extends StageInstruction> = (build: BuildSession, state: StageState, instruction: I, step: Step) => Promise<Outcome>;

/** The instruction type an op belongs to (COPY and ADD share one, as ENTRYPOINT and CMD do). */
export type InstructionOf<Op extends StageInstruction['op']> = StageInstruction extends infer I ? (I extends { op: infer O } ? (Op extends O ? I : never) : never) : never;

/** One handler per instruction, as BuildKit's dockerfile2llb has one dispatch function per command. */
export type Handlers = { [Op in StageInstruction['op']]: Handler<InstructionOf<Op>> };
