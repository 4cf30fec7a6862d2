//! Every detector file's examples, run through the engine; every positive
//! example must also fire the detector's prefilter trigger (trufflehog's rule).

use mamori::detect::{Engine, BUNDLED};
use mamori::finding::{Fingerprinter, Kind};
use mamori::text::TextUnit;

fn engine() -> Engine {
    Engine::load(None, Fingerprinter::new([7; 32]))
        .unwrap_or_else(|e| panic!("bundled detectors load: {e}"))
}

#[test]
fn every_example_of_every_detector_passes() {
    let engine = engine();
    let mut failures = Vec::new();
    for det in engine.detectors() {
        failures.extend(engine.check_examples(det));
    }
    assert!(
        failures.is_empty(),
        "{} example failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn positive_examples_fire_the_prefilter() {
    let engine = engine();
    for det in engine.detectors() {
        for ex in det.examples.iter().filter(|e| e.is_positive()) {
            let mut unit = TextUnit::fixed(ex.text.as_str(), mamori::text::Location::Line(1));
            unit.context_hint = ex.hint.clone();
            assert!(
                engine.triggered(&unit).contains(&det.id.as_str()),
                "{}: trigger does not fire on {:?}",
                det.id,
                ex.text
            );
        }
    }
}

#[test]
fn every_contract_kind_has_a_detector() {
    let engine = engine();
    for kind in Kind::ALL {
        assert!(
            engine.detectors().iter().any(|d| d.kind == kind),
            "no detector for {kind}"
        );
    }
}

#[test]
fn every_file_in_detectors_dir_is_bundled() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("detectors");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let bundled: Vec<String> = BUNDLED.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(on_disk, bundled);
}

#[test]
fn user_detector_overrides_and_extends() {
    let engine = Engine::load(
        Some(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/detectors")),
        Fingerprinter::new([7; 32]),
    )
    .unwrap();
    let det = engine
        .detectors()
        .iter()
        .find(|d| d.id == "atena_number")
        .expect("added");
    assert!(engine.check_examples(det).is_empty());
    assert_eq!(engine.detectors().len(), BUNDLED.len() + 1);
}

#[test]
fn broken_detector_files_fail_loudly() {
    let cases = [
        ("unknown key", "id='x'\nkind='my_number'\nversion=1\ndescription='d'\ncolour='red'\n"),
        (
            "bad kind",
            "id='x'\nkind='shoe_size'\nversion=1\ndescription='d'\n[trigger]\nkeywords=['a']\n[[pattern]]\nname='p'\nregex='a'\n[confidence]\nnot_applicable_with_context='high'\nnot_applicable_without_context='low'\nnegative_context='drop'\n",
        ),
        (
            "bad regex",
            "id='x'\nkind='my_number'\nversion=1\ndescription='d'\n[trigger]\nkeywords=['a']\n[[pattern]]\nname='p'\nregex='(?<!a)b'\n[confidence]\nnot_applicable_with_context='high'\nnot_applicable_without_context='low'\nnegative_context='drop'\n[[example]]\ntext='a'\nexpect='none'\n[[example]]\ntext='b'\nexpect={kind='my_number',confidence='low'}\n",
        ),
        (
            "unknown validator",
            "id='x'\nkind='my_number'\nversion=1\ndescription='d'\n[trigger]\nkeywords=['a']\n[[pattern]]\nname='p'\nregex='a'\n[validate]\nvalidator='verhoeff'\n[confidence]\nvalid_with_context='high'\nvalid_without_context='low'\nnot_applicable_with_context='high'\nnot_applicable_without_context='low'\nnegative_context='drop'\n[[example]]\ntext='a'\nexpect='none'\n[[example]]\ntext='b'\nexpect={kind='my_number',confidence='low'}\n",
        ),
        (
            "no negative example",
            "id='x'\nkind='my_number'\nversion=1\ndescription='d'\n[trigger]\nkeywords=['a']\n[[pattern]]\nname='p'\nregex='a'\n[confidence]\nnot_applicable_with_context='high'\nnot_applicable_without_context='low'\nnegative_context='drop'\n[[example]]\ntext='b'\nexpect={kind='my_number',confidence='low'}\n",
        ),
    ];
    for (what, text) in cases {
        let r = Engine::from_sources(
            vec![("test.toml".into(), text.into())],
            Fingerprinter::new([0; 32]),
        );
        assert!(r.is_err(), "{what}: should fail to load");
    }
}
