import type { CallProvider, DialRequest, DialResult } from "./provider";

/** Hands the call to the batch's SimulatedCarrier, which reports back like a real provider. */
export class SimulatedProvider implements CallProvider {
  constructor(private readonly carrier: DurableObjectNamespace<import("../durable/simulated-carrier").SimulatedCarrier>, private readonly callSeconds: number) {}

  async dial(req: DialRequest): Promise<DialResult> {
    const providerCallId = await this.carrier
      .getByName(req.batchId)
      .place({ batchId: req.batchId, seq: req.seq, attempt: req.attempt, to: req.to, callSeconds: this.callSeconds });
    return { kind: "placed", providerCallId };
  }
}
