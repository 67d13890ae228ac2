// `ws` exports its frame encoder, which @types/ws does not declare; the raw baselines build each frame once with it.
import 'ws';

declare module 'ws' {
  export class Sender {
    static frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[];
  }
}
