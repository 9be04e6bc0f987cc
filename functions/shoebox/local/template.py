"""Read template.yaml into what the local runtime needs: nothing is declared twice.

Intrinsic functions are resolved only as far as the local runtime needs: !Ref of resources/parameters,
!GetAtt X.Arn, !Sub with ${Ref} and ${X.Arn}, and !If on the template's Conditions (made of !Equals and
!Not over parameters: the Recognizer mode's memory sizes). Anything else fails loudly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shoebox.config import setting
from shoebox.local.asl_rewrites import for_moto  # the one load-time ASL rewrite for moto (EXPRESS children)

ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK = "shoebox-local"


class _Tagged:
    def __init__(self, tag: str, value: Any) -> None:
        self.tag, self.value = tag, value


class _Loader(yaml.SafeLoader):
    pass


def _construct(loader: yaml.Loader, tag_suffix: str, node: yaml.Node) -> _Tagged:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return _Tagged(tag_suffix, value)


_Loader.add_multi_constructor("!", _construct)


def project_root() -> Path:
    """The folder holding template.yaml: the checkout in development, or SHOEBOX_PROJECT."""

    env = setting("SHOEBOX_PROJECT")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "template.yaml").exists() and (parent / "statemachine").is_dir():
            return parent
    raise FileNotFoundError("template.yaml not found: set SHOEBOX_PROJECT to the Shoebox checkout")


@dataclass
class FunctionSpec:
    logical_id: str
    handler: str  # "shoebox.steps.classify.handler"
    environment: dict[str, str]  # Globals + the function's own, as Lambda would see it
    memory_mb: int
    timeout_s: int

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-{self.logical_id}"


@dataclass
class RuleSpec:
    logical_id: str
    pattern: dict
    target_state_machine: str | None = None  # logical id (a SAM state machine's EventBridgeRule event)
    target_queue: str | None = None  # logical id (an AWS::Events::Rule with an SQS target)


@dataclass
class QueueSpec:
    logical_id: str
    name: str
    attributes: dict[str, str]  # CreateQueue attributes as SQS takes them (RedrivePolicy as JSON text)


@dataclass
class EventSourceSpec:
    """An SQS event source mapping: the local runtime polls the queue and invokes the function."""

    logical_id: str
    queue: str  # logical id
    function: str  # logical id
    batch_size: int
    max_concurrency: int  # ScalingConfig MaximumConcurrency


@dataclass
class StateMachineSpec:
    logical_id: str
    definition: dict
    type: str

    @property
    def name(self) -> str:
        return f"{STACK}-{self.logical_id}"


@dataclass
class LocalStack:
    bucket: str
    table: dict  # CreateTable kwargs
    collection_id: str
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    state_machines: dict[str, StateMachineSpec] = field(default_factory=dict)
    rules: list[RuleSpec] = field(default_factory=list)
    queues: dict[str, QueueSpec] = field(default_factory=dict)
    event_sources: list[EventSourceSpec] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)
    global_environment: dict[str, str] = field(default_factory=dict)  # Globals.Function.Environment
    outputs: dict[str, str] = field(default_factory=dict)  # the template's Outputs, as far as they resolve locally


class _Resolver:
    def __init__(self, resources: dict, names: dict[str, str], arns: dict[str, str], params: dict[str, str],
                 conditions: dict | None = None):
        self.resources, self.names, self.arns, self.params = resources, names, arns, params
        self.conditions = conditions or {}

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise KeyError(f"template.yaml: no condition {name}")
        return bool(self.resolve(self.conditions[name]))

    def ref(self, name: str) -> str:
        if name in self.params:
            return self.params[name]
        if name in self.names:
            return self.names[name]
        if name == "AWS::StackName":
            return STACK
        if name == "AWS::Region":
            return REGION
        if name == "AWS::AccountId":
            return ACCOUNT
        raise KeyError(f"template.yaml: cannot resolve !Ref {name} locally")

    def getatt(self, target: str) -> str:
        logical, _, attr = target.partition(".")
        if attr == "Arn" and logical in self.arns:
            return self.arns[logical]
        raise KeyError(f"template.yaml: cannot resolve !GetAtt {target} locally")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, _Tagged):
            if value.tag == "Ref":
                return self.ref(value.value)
            if value.tag == "GetAtt":
                target = value.value if isinstance(value.value, str) else ".".join(value.value)
                return self.getatt(target)
            if value.tag == "Sub":
                text = value.value if isinstance(value.value, str) else value.value[0]

                def sub(match: re.Match) -> str:
                    name = match.group(1)
                    return self.getatt(name) if "." in name and not name.startswith("AWS::") else self.ref(name)

                return re.sub(r"\$\{([^}!]+)\}", sub, text)
            if value.tag == "If":
                name, then, otherwise = value.value
                return self.resolve(then if self.condition(name) else otherwise)
            if value.tag == "Equals":
                a, b = (self.resolve(v) for v in value.value)
                return str(a) == str(b)
            if value.tag == "Not":
                return not self.resolve(value.value[0])
            raise KeyError(f"template.yaml: intrinsic !{value.tag} is not supported locally")
        if isinstance(value, dict):
            if len(value) == 1:
                (k, v), = value.items()
                if k == "Ref":
                    return self.ref(v)
                if k == "Fn::GetAtt":
                    return self.getatt(v if isinstance(v, str) else ".".join(v))
                if k == "Fn::Sub":
                    return self.resolve(_Tagged("Sub", v))
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value


def load_template(root: Path | None = None, overrides: dict[str, str] | None = None) -> LocalStack:
    root = root or project_root()
    doc = yaml.load((root / "template.yaml").read_text(), Loader=_Loader)
    resources: dict[str, dict] = doc["Resources"]
    params = {name: str(spec.get("Default", "")) for name, spec in (doc.get("Parameters") or {}).items()}
    params.update(overrides or {})

    names: dict[str, str] = {}
    arns: dict[str, str] = {}
    for logical, res in resources.items():
        rtype = res["Type"]
        if rtype == "AWS::S3::Bucket":
            names[logical] = f"{STACK}-{logical.lower()}"
            arns[logical] = f"arn:aws:s3:::{names[logical]}"
        elif rtype == "AWS::DynamoDB::Table":
            names[logical] = f"{STACK}-{logical}"
            arns[logical] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{names[logical]}"
        elif rtype == "AWS::Rekognition::Collection":
            names[logical] = f"{STACK}-faces"
            arns[logical] = f"arn:aws:rekognition:{REGION}:{ACCOUNT}:collection/{names[logical]}"
        elif rtype == "AWS::Serverless::Function":
            names[logical] = f"{STACK}-{logical}"
            arns[logical] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{names[logical]}"
        elif rtype == "AWS::Serverless::StateMachine":
            # !Ref of a state machine is its ARN in CloudFormation
            arns[logical] = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{STACK}-{logical}"
            names[logical] = arns[logical]
        elif rtype == "AWS::SQS::Queue":
            names[logical] = f"{STACK}-{logical}"
            arns[logical] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{names[logical]}"
    resolver = _Resolver(resources, names, arns, params, doc.get("Conditions"))

    globals_env = (((doc.get("Globals") or {}).get("Function") or {}).get("Environment") or {}).get("Variables") or {}
    globals_fn = (doc.get("Globals") or {}).get("Function") or {}
    bucket = table = collection = None
    stack = LocalStack(bucket="", table={}, collection_id="", parameters=params,
                       global_environment={k: str(v) for k, v in resolver.resolve(globals_env).items()})
    for logical, res in resources.items():
        rtype, props = res["Type"], res.get("Properties") or {}
        if rtype == "AWS::S3::Bucket":
            bucket = names[logical]
        elif rtype == "AWS::DynamoDB::Table":
            table = _table_kwargs(names[logical], resolver.resolve(props))
        elif rtype == "AWS::Rekognition::Collection":
            collection = resolver.resolve(props.get("CollectionId")) or names[logical]
        elif rtype == "AWS::Serverless::Function":
            env = {**resolver.resolve(globals_env),
                   **resolver.resolve(((props.get("Environment") or {}).get("Variables")) or {})}
            stack.functions[logical] = FunctionSpec(
                logical_id=logical,
                handler=props["Handler"],
                environment={k: str(v) for k, v in env.items()},
                memory_mb=int(resolver.resolve(props.get("MemorySize", globals_fn.get("MemorySize", 128)))),
                timeout_s=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
            )
        elif rtype == "AWS::Serverless::StateMachine":
            definition_text = (root / props["DefinitionUri"]).read_text()
            subs = resolver.resolve(props.get("DefinitionSubstitutions") or {})
            for name, value in subs.items():
                definition_text = definition_text.replace("${%s}" % name, str(value))
            leftover = re.findall(r"\$\{[A-Za-z0-9_]+\}", definition_text)
            if leftover:
                raise KeyError(f"{props['DefinitionUri']}: unresolved substitutions {sorted(set(leftover))}")
            stack.state_machines[logical] = StateMachineSpec(
                logical_id=logical, definition=for_moto(json.loads(definition_text)), type=props.get("Type", "STANDARD"))
            for event_id, event in (props.get("Events") or {}).items():
                if event.get("Type") == "EventBridgeRule":
                    stack.rules.append(RuleSpec(
                        logical_id=f"{logical}{event_id}",
                        pattern=resolver.resolve(event["Properties"]["Pattern"]),
                        target_state_machine=logical))
        elif rtype == "AWS::SQS::Queue":
            stack.queues[logical] = QueueSpec(logical, names[logical], _queue_attributes(resolver.resolve(props)))
        elif rtype == "AWS::Events::Rule":
            for target in props.get("Targets") or []:
                target_logical = _logical_of(target["Arn"])
                if resources.get(target_logical, {}).get("Type") == "AWS::SQS::Queue":
                    stack.rules.append(RuleSpec(logical_id=logical, pattern=resolver.resolve(props["EventPattern"]),
                                                target_queue=target_logical))
        elif rtype == "AWS::Lambda::EventSourceMapping":
            scaling = resolver.resolve(props.get("ScalingConfig") or {})
            stack.event_sources.append(EventSourceSpec(
                logical_id=logical, queue=_logical_of(props["EventSourceArn"]),
                function=_logical_of(props["FunctionName"]), batch_size=int(resolver.resolve(props.get("BatchSize", 10))),
                max_concurrency=int(scaling.get("MaximumConcurrency", 2))))
    if not (bucket and table and collection):
        raise KeyError("template.yaml must define the photo bucket, the catalog table and the face collection")
    stack.bucket, stack.table, stack.collection_id = bucket, table, collection
    for name, spec in (doc.get("Outputs") or {}).items():
        try:
            stack.outputs[name] = str(resolver.resolve(spec["Value"]))
        except KeyError:
            continue  # an output of a resource the local stack does not have (an alarm topic, a dashboard)
    return stack


def _table_kwargs(name: str, props: dict) -> dict:
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return kwargs


def _logical_of(value: Any) -> str:
    """The resource a !Ref X or !GetAtt X.Arn names."""
    if isinstance(value, _Tagged) and value.tag in ("Ref", "GetAtt"):
        target = value.value if isinstance(value.value, str) else value.value[0]
        return target.split(".")[0]
    raise KeyError(f"template.yaml: expected !Ref or !GetAtt, got {value!r}")


def _queue_attributes(props: dict) -> dict[str, str]:
    out = {k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props}
    if props.get("RedrivePolicy"):
        out["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    return out
