import type { SimPlacement, SimulatedCarrier } from "./simulated-carrier";
import type { CallProvider, DialFate, DialRequest, DialResult, LostDial } from "./provider";

type Waiting = { placement: SimPlacement; resolve: (id: string) => void; reject: (err: unknown) => void };

/**
 * Dials started in the same turn (a consumer batch dials its calls
 * together) for the same batch, gathered into one request to its carrier.
 * A real provider is a network call that costs the Worker nothing; the
 * simulator should not cost the batch's thread a request per call either.
 */
const gathering = new Map<string, Waiting[]>();

/** Hands the call to the batch's SimulatedCarrier, which reports back like a real provider. */
export class SimulatedProvider implements CallProvider {
  constructor(
    private readonly carrier: DurableObjectNamespace<SimulatedCarrier>,
    private readonly callSeconds: number,
    /** Answered calls report a simulated agent's result (SIM_RESULTS). */
    private readonly results = false,
  ) {}

  dial(req: DialRequest): Promise<DialResult> {
    const placement: SimPlacement = {
      batchId: req.batchId,
      seq: req.seq,
      attempt: req.attempt,
      to: req.to,
      callSeconds: this.callSeconds,
      // The variables only travel when a result will greet the person with them.
      ...(this.results ? { results: true, variables: req.variables } : {}),
    };
    return new Promise<string>((resolve, reject) => {
      const group = gathering.get(req.batchId);
      if (group) return void group.push({ placement, resolve, reject });
      gathering.set(req.batchId, [{ placement, resolve, reject }]);
      // Runs before any other request's work: every dial in the group belongs to this one.
      queueMicrotask(() => void this.send(req.batchId));
    }).then((providerCallId) => ({ kind: "placed", providerCallId }));
  }

  /** The carrier keeps a call log per batch, so it answers for certain. */
  async findLostDial(dial: LostDial): Promise<DialFate> {
    const id = await this.carrier.getByName(dial.batchId).placement(dial.seq, dial.attempt);
    return id ? { kind: "placed", providerCallId: id } : { kind: "not_placed" };
  }

  private async send(batchId: string): Promise<void> {
    const group = gathering.get(batchId) ?? [];
    gathering.delete(batchId);
    try {
      const ids = await this.carrier.getByName(batchId).placeMany(group.map((w) => w.placement));
      group.forEach((w, i) => {
        w.resolve(ids[i]!);
      });
    } catch (err) {
      for (const w of group) w.reject(err);
    }
  }
}
