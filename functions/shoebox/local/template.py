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
            return self._intrinsic(value)
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

    def _intrinsic(self, value: _Tagged) -> Any:
        """A short-form intrinsic (!Ref, !GetAtt, !Sub, !If, !Equals, !Not)."""
        if value.tag == "Ref":
            return self.ref(value.value)
        if value.tag == "GetAtt":
            return self.getatt(value.value if isinstance(value.value, str) else ".".join(value.value))
        if value.tag == "Sub":
            return self._sub(value.value if isinstance(value.value, str) else value.value[0])
        if value.tag == "If":
            name, then, otherwise = value.value
            return self.resolve(then if self.condition(name) else otherwise)
        if value.tag == "Equals":
            a, b = (self.resolve(v) for v in value.value)
            return str(a) == str(b)
        if value.tag == "Not":
            return not self.resolve(value.value[0])
        raise KeyError(f"template.yaml: intrinsic !{value.tag} is not supported locally")

    def _sub(self, text: str) -> str:
        def sub(match: re.Match) -> str:
            name = match.group(1)
            return self.getatt(name) if "." in name and not name.startswith("AWS::") else self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", sub, text)


# The physical name and ARN each resource type gets locally ({n}: the name). !Ref of a state machine is
# its ARN in CloudFormation.
_PHYSICAL = {
    "AWS::S3::Bucket": ("{stack}-{lower}", "arn:aws:s3:::{n}"),
    "AWS::DynamoDB::Table": ("{stack}-{logical}", "arn:aws:dynamodb:{region}:{account}:table/{n}"),
    "AWS::Rekognition::Collection": ("{stack}-faces", "arn:aws:rekognition:{region}:{account}:collection/{n}"),
    "AWS::Serverless::Function": ("{stack}-{logical}", "arn:aws:lambda:{region}:{account}:function:{n}"),
    "AWS::Serverless::StateMachine": ("arn:aws:states:{region}:{account}:stateMachine:{stack}-{logical}", "{n}"),
    "AWS::SQS::Queue": ("{stack}-{logical}", "arn:aws:sqs:{region}:{account}:{n}"),
}


def _physical(resources: dict[str, dict]) -> tuple[dict[str, str], dict[str, str]]:
    """(logical id → physical name, logical id → ARN) for the resource types the local stack makes."""
    names: dict[str, str] = {}
    arns: dict[str, str] = {}
    for logical, res in resources.items():
        if res["Type"] in _PHYSICAL:
            name_form, arn_form = _PHYSICAL[res["Type"]]
            fields = {"stack": STACK, "logical": logical, "lower": logical.lower(), "region": REGION,
                      "account": ACCOUNT}
            names[logical] = name_form.format(**fields)
            arns[logical] = arn_form.format(n=names[logical], **fields)
    return names, arns


def load_template(root: Path | None = None, overrides: dict[str, str] | None = None) -> LocalStack:
    root = root or project_root()
    doc = yaml.load((root / "template.yaml").read_text(), Loader=_Loader)
    resources: dict[str, dict] = doc["Resources"]
    params = {name: str(spec.get("Default", "")) for name, spec in (doc.get("Parameters") or {}).items()}
    params.update(overrides or {})
    names, arns = _physical(resources)
    resolver = _Resolver(resources, names, arns, params, doc.get("Conditions"))
    globals_fn, globals_env = _function_globals(doc)
    bucket, table, collection = _core(resources, names, resolver)
    stack = LocalStack(bucket=bucket, table=table, collection_id=collection, parameters=params,
                       global_environment={k: str(v) for k, v in resolver.resolve(globals_env).items()})
    for logical, res in resources.items():
        rtype, props = res["Type"], res.get("Properties") or {}
        if rtype == "AWS::Serverless::Function":
            stack.functions[logical] = _function(logical, props, resolver, globals_fn, globals_env)
        elif rtype == "AWS::Serverless::StateMachine":
            _add_state_machine(stack, root, logical, props, resolver)
        elif rtype == "AWS::SQS::Queue":
            stack.queues[logical] = QueueSpec(logical, names[logical], _queue_attributes(resolver.resolve(props)))
        elif rtype == "AWS::Events::Rule":
            stack.rules += _queue_rules(logical, props, resources, resolver)
        elif rtype == "AWS::Lambda::EventSourceMapping":
            stack.event_sources.append(_event_source(logical, props, resolver))
    stack.outputs = _outputs(doc.get("Outputs") or {}, resolver)
    return stack


def _function_globals(doc: dict) -> tuple[dict, dict]:
    """The template's Globals for every function, and their environment variables."""
    globals_fn = (doc.get("Globals") or {}).get("Function") or {}
    return globals_fn, ((globals_fn.get("Environment") or {}).get("Variables")) or {}


def _outputs(outputs: dict, resolver: _Resolver) -> dict[str, str]:
    found = {}
    for name, spec in outputs.items():
        try:
            found[name] = str(resolver.resolve(spec["Value"]))
        except KeyError:
            continue  # an output of a resource the local stack does not have (an alarm topic, a dashboard)
    return found


def _core(resources: dict[str, dict], names: dict[str, str], resolver: _Resolver) -> tuple[str, dict, str]:
    """The photo bucket's name, the catalog table's create_table arguments and the face collection's id."""
    bucket = table = collection = None
    for logical, res in resources.items():
        rtype, props = res["Type"], res.get("Properties") or {}
        if rtype == "AWS::S3::Bucket":
            bucket = names[logical]
        elif rtype == "AWS::DynamoDB::Table":
            table = _table_kwargs(names[logical], resolver.resolve(props))
        elif rtype == "AWS::Rekognition::Collection":
            collection = resolver.resolve(props.get("CollectionId")) or names[logical]
    if not (bucket and table and collection):
        raise KeyError("template.yaml must define the photo bucket, the catalog table and the face collection")
    return bucket, table, collection


def _function(logical: str, props: dict, resolver: _Resolver, globals_fn: dict, globals_env: dict) -> FunctionSpec:
    env = {**resolver.resolve(globals_env), **resolver.resolve(((props.get("Environment") or {}).get("Variables")) or {})}
    return FunctionSpec(
        logical_id=logical,
        handler=props["Handler"],
        environment={k: str(v) for k, v in env.items()},
        memory_mb=int(resolver.resolve(props.get("MemorySize", globals_fn.get("MemorySize", 128)))),
        timeout_s=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
    )


def _add_state_machine(stack: LocalStack, root: Path, logical: str, props: dict, resolver: _Resolver) -> None:
    """The state machine with its definition substituted, and the EventBridge rules that start it."""
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


def _queue_rules(logical: str, props: dict, resources: dict[str, dict], resolver: _Resolver) -> list[RuleSpec]:
    """An EventBridge rule's targets that are queues of the stack (other targets are not run locally)."""
    out = []
    for target in props.get("Targets") or []:
        target_logical = _logical_of(target["Arn"])
        if resources.get(target_logical, {}).get("Type") == "AWS::SQS::Queue":
            out.append(RuleSpec(logical_id=logical, pattern=resolver.resolve(props["EventPattern"]),
                                target_queue=target_logical))
    return out


def _event_source(logical: str, props: dict, resolver: _Resolver) -> EventSourceSpec:
    scaling = resolver.resolve(props.get("ScalingConfig") or {})
    return EventSourceSpec(
        logical_id=logical, queue=_logical_of(props["EventSourceArn"]),
        function=_logical_of(props["FunctionName"]), batch_size=int(resolver.resolve(props.get("BatchSize", 10))),
        max_concurrency=int(scaling.get("MaximumConcurrency", 2)))


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
