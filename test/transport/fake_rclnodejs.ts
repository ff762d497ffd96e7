import type {
  RclClientLike, RclLoggingLike, RclnodejsLike, RclNodeLike, RclOptionsLike, RclParameterLike, RclPublisherLike, RclQosLike, RclServiceResponseLike,
  RclSetParametersResultLike,
} from "../../src/transport/rclnodejs/rclnodejs_like.js";

/**
 * FakeRclnodejs: a stand-in for rclnodejs, which cannot run without a ROS 2 installation.
 * An in-memory bus with the subset of the API the backend calls, recording what it was asked
 * (names, QoS, options) so tests can check the backend's translation. Not a ROS 2 model:
 * delivery is synchronous, services answer through a promise.
 */
export class FakeQoS implements RclQosLike {
  liveliness = 0;
  avoidRosNameSpaceConventions = false;
  constructor(public history = 1, public depth = 10, private readonly rel = 1, public durability = 2) {}
  reliability(): number {
    return this.rel;
  }
}

interface FakeSub { topic: string; type: string; options: RclOptionsLike; callback: (m: never) => void; destroyed: boolean }
interface FakeService { name: string; type: string; callback: (req: never, res: RclServiceResponseLike<never>) => void; destroyed: boolean }

export class FakeRclnodejs implements RclnodejsLike {
  initArgs: (string[] | undefined)[] = [];
  shutdowns = 0;
  readonly nodes: FakeNode[] = [];
  readonly subs: FakeSub[] = [];
  readonly services: FakeService[] = [];
  readonly publishers: { topic: string; type: string; options?: RclOptionsLike }[] = [];
  QoS = FakeQoS;
  Parameter = class implements RclParameterLike {
    value: unknown;
    constructor(readonly name: string, readonly type: number, value?: unknown) {
      this.value = value;
    }
  };
  Node: RclnodejsLike["Node"];

  constructor() {
    const bus = this;
    this.Node = class extends FakeNode {
      constructor(name: string, namespace?: string) {
        super(bus, name, namespace ?? "");
        bus.nodes.push(this);
      }
    };
  }

  async init(_context?: undefined, argv?: string[]): Promise<void> {
    this.initArgs.push(argv);
  }

  shutdown(): void {
    this.shutdowns++;
  }
}

/** What rclnodejs 2.2 hands a subscriber: serializationMode "plain" turns typed arrays into number[]. */
function deliverAs(m: unknown, options: RclOptionsLike): unknown {
  const plain = (v: unknown): unknown =>
    ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as Uint8Array)
      : Array.isArray(v) ? v.map(plain)
      : typeof v === "object" && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
      : v;
  return (options.serializationMode as string | undefined) === "plain" ? plain(m) : m;
}

export class FakeNode implements RclNodeLike {
  spinning = false;
  destroyed = false;
  readonly parameters = new Map<string, RclParameterLike>();
  private onSet: ((ps: RclParameterLike[]) => RclSetParametersResultLike) | undefined;

  hasParameter(name: string): boolean {
    return this.parameters.has(name);
  }

  declareParameter(p: RclParameterLike): RclParameterLike {
    if (this.parameters.has(p.name)) throw new Error(`ParameterAlreadyDeclaredException: ${p.name}`);
    this.parameters.set(p.name, p);
    return p;
  }

  addOnSetParametersCallback(cb: (ps: RclParameterLike[]) => RclSetParametersResultLike): void {
    this.onSet = cb;
  }

  /** What `ros2 param set` does: the node's callback decides, then the value is stored. */
  externalSet(p: RclParameterLike): RclSetParametersResultLike {
    const r = this.onSet ? this.onSet([p]) : { successful: true, reason: "" };
    if (r.successful) this.parameters.set(p.name, p);
    return r;
  }
  constructor(private readonly bus: FakeRclnodejs, readonly name: string, readonly ns: string) {
    // rclnodejs declares use_sim_time on every node, as rclcpp does.
    this.parameters.set("use_sim_time", { name: "use_sim_time", type: 1, value: false });
  }

  createPublisher(type: string, topic: string, options?: RclOptionsLike): RclPublisherLike<never> {
    this.bus.publishers.push({ topic, type, options });
    const bus = this.bus;
    return {
      publish: (m: never) => {
        for (const s of bus.subs) if (!s.destroyed && s.topic === topic) s.callback(deliverAs(m, s.options) as never);
      },
      subscriptionCount: () => bus.subs.filter((s) => !s.destroyed && s.topic === topic).length,
    };
  }

  createSubscription(type: string, topic: string, options: RclOptionsLike, callback: (m: never) => void): object {
    const s: FakeSub = { topic, type, options, callback, destroyed: false };
    this.bus.subs.push(s);
    return s;
  }

  createService(type: string, name: string, _options: RclOptionsLike, callback: (req: never, res: RclServiceResponseLike<never>) => void): object {
    const s: FakeService = { name, type, callback, destroyed: false };
    this.bus.services.push(s);
    return s;
  }

  createClient(type: string, name: string): RclClientLike<never, never> {
    const bus = this.bus;
    const find = () => bus.services.find((s) => !s.destroyed && s.name === name && s.type === type);
    return {
      waitForService: async (timeout?: number) => {
        const end = Date.now() + (timeout ?? 0);
        while (!find() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
        return find() !== undefined;
      },
      sendRequestAsync: (request: never, options?: { timeout?: number }) =>
        new Promise<never>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("Request timeout")), options?.timeout ?? 1000);
          find()!.callback(request, { send: (r: never) => { clearTimeout(timer); resolve(r); } });
        }),
    };
  }

  destroyPublisher(): void {}
  destroySubscription(s: object): void {
    (s as FakeSub).destroyed = true;
  }
  destroyService(s: object): void {
    (s as FakeService).destroyed = true;
  }
  destroyClient(): void {}
  spin(): void {
    this.spinning = true;
  }
  /** What reached rcl's logger: [level name, message]; `level` is what setLoggerLevel set. */
  readonly logged: [string, string][] = [];
  logLevel = 20;
  getLogger(): RclLoggingLike {
    const at = (level: string) => (message: string) => {
      this.logged.push([level, message]);
      return true;
    };
    return {
      setLoggerLevel: (level: number) => {
        this.logLevel = level;
      },
      debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), fatal: at("fatal"),
    };
  }
  destroy(): void {
    this.destroyed = true;
  }
}
