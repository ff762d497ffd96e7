import type { TransportNode } from "../src/transport/port.js";
import { QOS_DEFAULT } from "../src/transport/qos.js";
import { Counters } from "../src/diagnostics/counters.js";
import type { Scene } from "../src/scene/scene_object.js";
import { validateScene } from "../src/scene/scene_validation.js";
import { answerQuestion } from "../src/spatial/answer_question.js";
import { checkQuestionLength } from "../src/spatial/question_parser.js";
import type * as M from "../src/msgs/generated.js";
import { T, answerToMsg, errorAnswer, noSceneAnswer, sceneFromMsg } from "./messages.js";
import { DiagnosticsPublisher, DIAGNOSTIC_LEVEL } from "./diagnostics_publisher.js";
import { RosClock } from "./ros_clock.js";

/**
 * Spatial node: answers questions about the latest scene graph, as a service
 * (`spatial_query`, SpatialQuery.srv) and as a topic pair (`spatial/question` std_msgs/String
 * in, `spatial/answer` SpatialAnswer out). Every question gets an answer — a refusal with the
 * reason when it cannot be answered (status unparsed/unknown/ambiguous/no_scene/error) — and
 * is counted by status. Answers are in the scene's frame (its header.frame_id).
 */
export class SpatialNode {
  readonly counters = new Counters();
  readonly diagnostics: DiagnosticsPublisher;
  private scene: Scene | null = null;
  private sceneFrameId = "";

  constructor(readonly node: TransportNode) {
    const clock = new RosClock(node, (e) => this.diagnostics.errors.report(e, "/clock"));
    this.diagnostics = new DiagnosticsPublisher(node, "spatial", this.counters, clock);
    this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.WARN, message: "no scene graph received yet" };
    const errors = this.diagnostics.errors;
    node.createSubscription<M.spatial_reward_msgs__msg__SceneObjects>(
      T.SceneObjects, "scene/objects", QOS_DEFAULT,
      errors.guard("scene/objects", (msg) => {
        this.counters.inc("scenes_in");
        // A malformed scene is refused (counted); questions keep using the last good one.
        const scene = validateScene(sceneFromMsg(msg));
        if (!this.scene) node.logger.info(`first scene graph received (${scene.objects.length} objects)`);
        this.scene = scene;
        this.sceneFrameId = msg.header.frame_id;
        this.diagnostics.condition = null;
      }),
    );
    const answerPub = node.createPublisher<M.spatial_reward_msgs__msg__SpatialAnswer>(T.SpatialAnswer, "spatial/answer", QOS_DEFAULT);
    node.createSubscription<M.std_msgs__msg__String>(
      T.String, "spatial/question", QOS_DEFAULT,
      errors.guard("spatial/question", (msg) => answerPub.publish(this.answer(msg.data))),
    );
    node.createService<M.spatial_reward_msgs__srv__SpatialQuery_Request, M.spatial_reward_msgs__srv__SpatialQuery_Response>(
      T.SpatialQuery, "spatial_query", (req) => ({ answer: this.answer(req.question) }),
    );
  }

  /** Never throws: whatever goes wrong becomes a refusal saying why, counted and logged. */
  answer(question: string): M.spatial_reward_msgs__msg__SpatialAnswer {
    const t0 = performance.now();
    this.counters.inc("questions");
    try {
      // Not a string (bad_argument) or too long is refused as such even before the first scene arrives.
      checkQuestionLength(question);
      if (!this.scene) {
        this.counters.inc("answers.no_scene");
        return noSceneAnswer(question);
      }
      const a = answerQuestion(this.scene, question);
      this.counters.inc(`answers.${a.status}`);
      const msg = answerToMsg(a, this.scene.stamp, this.sceneFrameId);
      this.diagnostics.latency.add(performance.now() - t0);
      return msg;
    } catch (e) {
      const typed = this.diagnostics.errors.report(e, "question");
      this.counters.inc("answers.error");
      return errorAnswer(typeof question === "string" ? question : "", typed, this.scene?.stamp ?? 0n, this.sceneFrameId);
    }
  }
}
